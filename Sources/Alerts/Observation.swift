/// One thing a rule looked at in one evaluation: a filesystem, a container. `key` names it stably
/// across evaluations (`filesystem_full:/srv`), so its alert can be followed from firing to resolved.
public struct Observation: Sendable, Equatable {
    public var key: String
    public var rule: AlertRule
    public var subject: String
    /// Whether the rule's condition holds right now.
    public var active: Bool
    /// The measured value (percent), when there is one.
    public var value: Double?
    public var summary: String

    public init(key: String, rule: AlertRule, subject: String, active: Bool, value: Double?, summary: String) {
        self.key = key
        self.rule = rule
        self.subject = subject
        self.active = active
        self.value = value
        self.summary = summary
    }
}
