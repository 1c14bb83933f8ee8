import Realtime

/// What becomes of one tool call the model made: the policy's decision, then the tool's result as
/// the JSON text the model is given back (`{"ok":true,"result":…}` or `{"ok":false,"error":{…}}`).
public enum ToolInvocation {
    public enum Plan: Sendable {
        /// Run at once.
        case run(any JarvisTool, JSONValue)
        /// Wait for a person with the tool's required scope.
        case approval(any JarvisTool, JSONValue)
        /// Never runs; the error is the call's result.
        case refuse((any JarvisTool)?, ToolError)
    }

    /// Decides a call. `mayRunUnapproved` says whether whoever asked Jarvis holds a scope: a tool the
    /// policy lets run at once still waits for approval when they lack the scope it needs.
    public static func plan(
        _ call: ChatMessage.ToolCall, catalog: ToolCatalog, policy: ToolPolicy, mayRunUnapproved: (Principal.Scope) -> Bool
    ) -> Plan {
        guard let tool = catalog.tool(named: call.name) else {
            return .refuse(nil, ToolError(.unknownTool, "there is no tool '\(call.name)'"))
        }
        let decision = policy.decision(for: tool)
        if decision == .forbidden {
            return .refuse(tool, ToolError(.forbidden, "the policy forbids '\(tool.name)'"))
        }
        let arguments: JSONValue
        do {
            arguments = try JSONParser.parse(call.arguments.isEmpty ? "{}" : call.arguments)
        } catch {
            return .refuse(tool, ToolError(.badArguments, "the arguments are not JSON: \(error)"))
        }
        guard case .object = arguments else {
            return .refuse(tool, ToolError(.badArguments, "the arguments must be a JSON object"))
        }
        if decision == .approval { return .approval(tool, arguments) }
        if let scope = tool.requiredScope, !mayRunUnapproved(scope) { return .approval(tool, arguments) }
        return .run(tool, arguments)
    }

    /// Runs a tool with a time limit; never throws — a failure is a result the model can read.
    public static func execute(_ tool: any JarvisTool, _ arguments: JSONValue, timeout: Duration = .seconds(30)) async -> Result<JSONValue, ToolError> {
        await withTaskGroup(of: Result<JSONValue, ToolError>?.self) { group in
            group.addTask {
                do throws(ToolError) {
                    return .success(try await tool.run(arguments))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .failure(ToolError(.timeout, "'\(tool.name)' took longer than \(timeout)"))
            }
            var outcome: Result<JSONValue, ToolError> = .failure(ToolError(.cancelled, "the answer was stopped"))
            if let first = await group.next(), let first { outcome = first }
            group.cancelAll()
            if Task.isCancelled, case .failure(let error) = outcome, error.code != .cancelled {
                outcome = .failure(ToolError(.cancelled, "the answer was stopped"))
            }
            return outcome
        }
    }

    /// The JSON text given to the model as a call's result.
    public static func resultText(_ result: Result<JSONValue, ToolError>) -> String {
        let value: JSONValue
        switch result {
        case .success(let output):
            value = .object([("ok", .bool(true)), ("result", output)])
        case .failure(let error):
            value = .object([
                ("ok", .bool(false)),
                ("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message))])),
            ])
        }
        return String(decoding: value.jsonBytes, as: UTF8.self)
    }
}
