/// Turns observations into alert transitions. A condition must hold for the rule's duration before
/// its alert fires (a short spike never pages anyone), and must stay away for the same duration
/// before it resolves (a flapping disk does not send a storm of messages).
public struct AlertEvaluator: Sendable {
    public enum Transition: Sendable, Equatable {
        case fired(Alert)
        case resolved(Alert)
    }

    private struct Tracked: Sendable {
        var activeSince: Int64?
        var inactiveSince: Int64?
        var alert: Alert?
    }

    private var tracked: [String: Tracked] = [:]

    public init() {}

    /// Alerts currently firing.
    public var firing: [Alert] { tracked.values.compactMap(\.alert).sorted { $0.firedAt < $1.firedAt } }

    /// Picks up alerts that were firing before a restart, so they resolve rather than fire twice.
    public mutating func restore(_ alerts: [Alert]) {
        for alert in alerts where alert.state == .firing {
            tracked[alert.key] = Tracked(activeSince: alert.since, inactiveSince: nil, alert: alert)
        }
    }

    /// Remembers the stored id of a fired alert, so its resolution names the same alert.
    public mutating func assignID(_ id: Int64, to key: String) {
        tracked[key]?.alert?.id = id
    }

    /// One evaluation at `now` (Unix milliseconds). Keys not observed this time count as inactive
    /// (the container is gone, the filesystem unmounted).
    public mutating func evaluate(_ observations: [Observation], now: Int64) -> [Transition] {
        var transitions: [Transition] = []
        var seen = Set<String>()
        for observation in observations {
            seen.insert(observation.key)
            var state = tracked[observation.key] ?? Tracked()
            let hold = Self.milliseconds(observation.rule.duration)
            if observation.active {
                state.inactiveSince = nil
                let since = state.activeSince ?? now
                state.activeSince = since
                if state.alert == nil, now - since >= hold {
                    let alert = Alert(
                        key: observation.key, rule: observation.rule.name, severity: observation.rule.severity, subject: observation.subject,
                        state: .firing, summary: observation.summary, value: observation.value, since: since, firedAt: now
                    )
                    state.alert = alert
                    transitions.append(.fired(alert))
                } else if var alert = state.alert {
                    alert.value = observation.value
                    alert.summary = observation.summary
                    state.alert = alert
                }
            } else {
                state.activeSince = nil
                if let alert = state.alert {
                    let since = state.inactiveSince ?? now
                    state.inactiveSince = since
                    if now - since >= hold {
                        transitions.append(.resolved(Self.resolve(alert, at: now, summary: observation.summary, value: observation.value)))
                        state = Tracked()
                    }
                }
            }
            tracked[observation.key] = state.activeSince == nil && state.alert == nil ? nil : state
        }
        // Gone entirely: resolve at once, nothing is left to recover.
        for (key, state) in tracked where !seen.contains(key) {
            if let alert = state.alert {
                transitions.append(.resolved(Self.resolve(alert, at: now, summary: "\(alert.subject) is gone", value: nil)))
            }
            tracked[key] = nil
        }
        return transitions
    }

    private static func resolve(_ alert: Alert, at now: Int64, summary: String, value: Double?) -> Alert {
        var resolved = alert
        resolved.state = .resolved
        resolved.resolvedAt = now
        resolved.summary = summary
        resolved.value = value
        return resolved
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
