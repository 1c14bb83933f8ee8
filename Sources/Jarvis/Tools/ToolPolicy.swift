/// What happens when the model calls a tool. Decided per tool; by default diagnose tools run at
/// once, remediate and proactive tools wait for a person's approval.
public struct ToolPolicy: Equatable, Sendable {
    public enum Decision: String, Sendable, CaseIterable {
        case auto
        case approval
        case forbidden
    }

    public var overrides: [String: Decision]

    public init(overrides: [String: Decision] = [:]) {
        self.overrides = overrides
    }

    public func decision(for tool: any JarvisTool) -> Decision {
        if let decision = overrides[tool.name] { return decision }
        switch tool.tier {
        case .diagnose: return .auto
        case .remediate, .proactive: return .approval
        }
    }
}
