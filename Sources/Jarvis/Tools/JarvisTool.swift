import Realtime

/// How much a tool may change: the policy's default decision follows from it.
public enum ToolTier: String, Sendable, CaseIterable {
    /// Reads state only (metrics, logs, DNS, an HTTP check): runs without asking.
    case diagnose
    /// Changes something (restart a container, clear a cache): runs only once a person approved it.
    case remediate
    /// Scheduled suggestions: proposed, approved like remediation.
    case proactive
}

/// Something Jarvis can do, described to the model with an OpenAI function-calling schema.
public protocol JarvisTool: Sendable {
    /// `snake_case`, unique in the catalog; what the model calls.
    var name: String { get }
    /// One or two sentences for the model and for people approving a call.
    var description: String { get }
    var tier: ToolTier { get }
    /// JSON Schema of the arguments object.
    var parameters: JSONValue { get }
    /// What a person needs to let this tool run (approve it, or have it run at once when the policy
    /// says auto); nil: anyone who may talk to Jarvis.
    var requiredScope: Principal.Scope? { get }
    /// Runs the tool; the result goes back to the model as JSON text.
    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue
}

extension JarvisTool {
    /// Reading needs nothing beyond talking to Jarvis; changing things is for operators.
    public var requiredScope: Principal.Scope? { tier == .diagnose ? nil : .containers }

    public var definition: ToolDefinition {
        ToolDefinition(name: name, description: description, parameters: parameters)
    }
}

/// Why a tool call produced no result; shown to the model (and the user) as the call's outcome.
public struct ToolError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The model's arguments do not fit the schema.
        case badArguments = "bad_arguments"
        /// The tool ran and what it checked failed or could not be reached.
        case failed
        case timeout
        /// The model named a tool the catalog does not have.
        case unknownTool = "unknown_tool"
        /// The policy forbids the tool.
        case forbidden
        /// A person declined the call.
        case rejected
        /// Nobody decided before the conversation moved on.
        case expired
        /// The answer was stopped while the tool ran.
        case cancelled
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

extension JSONValue {
    /// A required string argument, or `bad_arguments` naming it.
    public func toolString(_ name: String) throws(ToolError) -> String {
        guard let value = self[name]?.stringValue, !value.isEmpty else {
            throw ToolError(.badArguments, "'\(name)' (a non-empty string) is required")
        }
        return value
    }

    /// An optional integer argument within `range`.
    public func toolInteger(_ name: String, in range: ClosedRange<Int64>, default fallback: Int64) throws(ToolError) -> Int64 {
        switch self[name] {
        case nil, .some(.null): return fallback
        case .some(let value):
            guard let number = value.int64Value, range.contains(number) else {
                throw ToolError(.badArguments, "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
    }
}
