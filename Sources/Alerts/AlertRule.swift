/// A condition worth waking someone for, and how long it must hold before it fires.
public struct AlertRule: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        /// Any filesystem fuller than this many percent.
        case filesystemUsedPercent(above: Double)
        /// A container whose health check reports unhealthy.
        case containerUnhealthy
        /// A container in a restart loop: state `restarting`, or restarted by its policy several
        /// times within a few minutes (see `RestartHistory`).
        case containerRestarting
        /// A container using more CPU than this (100 = one core).
        case containerCPUPercent(above: Double)
        /// A container using more than this share of its memory limit.
        case containerMemoryPercent(above: Double)
    }

    public var name: String
    public var condition: Condition
    /// How long the condition must hold before the alert fires (and stay away before it resolves).
    public var duration: Duration
    public var severity: Severity

    public enum Severity: String, Sendable { case warning, critical }

    public init(name: String, condition: Condition, duration: Duration, severity: Severity = .warning) {
        self.name = name
        self.condition = condition
        self.duration = duration
        self.severity = severity
    }

    /// What the issue names as the default: any filesystem over 80 %, plus the container troubles
    /// nobody wants to miss.
    public static func defaults(duration: Duration) -> [AlertRule] {
        [
            AlertRule(name: "filesystem_full", condition: .filesystemUsedPercent(above: 80), duration: duration),
            AlertRule(name: "container_unhealthy", condition: .containerUnhealthy, duration: duration, severity: .critical),
            AlertRule(name: "container_restarting", condition: .containerRestarting, duration: duration, severity: .critical),
        ]
    }
}
