/// A fired alert, from firing to resolved: what the `alerts` channel, the store and the
/// notification targets carry.
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable { case firing, resolved }

    public var id: Int64
    public var key: String
    public var rule: String
    public var severity: AlertRule.Severity
    public var subject: String
    public var state: State
    public var summary: String
    public var value: Double?
    /// Unix milliseconds: when the condition started to hold, when the alert fired, when it cleared.
    public var since: Int64
    public var firedAt: Int64
    public var resolvedAt: Int64?

    public init(
        id: Int64 = 0, key: String, rule: String, severity: AlertRule.Severity, subject: String, state: State, summary: String,
        value: Double?, since: Int64, firedAt: Int64, resolvedAt: Int64? = nil
    ) {
        self.id = id
        self.key = key
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.state = state
        self.summary = summary
        self.value = value
        self.since = since
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
    }
}
