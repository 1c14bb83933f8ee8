/// The tools Jarvis has, by name.
public struct ToolCatalog: Sendable {
    public private(set) var tools: [any JarvisTool]

    public init(_ tools: [any JarvisTool]) {
        var seen = Set<String>()
        self.tools = tools.filter { seen.insert($0.name).inserted }
    }

    public func tool(named name: String) -> (any JarvisTool)? {
        tools.first { $0.name == name }
    }

    /// What the model is told about: every tool the policy does not forbid.
    public func definitions(under policy: ToolPolicy) -> [ToolDefinition] {
        tools.filter { policy.decision(for: $0) != .forbidden }.map(\.definition)
    }
}
