/// A set of channels sharing one policy: either one exact name (`telemetry.host`) or a prefix
/// followed by at least one character (`app.*`).
public struct ChannelFamily: Sendable {
    public enum Pattern: Sendable, Equatable, CustomStringConvertible {
        case exact(String)
        case prefix(String)

        func matches(_ name: String) -> Bool {
            switch self {
            case .exact(let exact): name == exact
            case .prefix(let prefix): name.count > prefix.count && name.hasPrefix(prefix)
            }
        }

        /// Longer patterns are more specific, so `telemetry.host` wins over a `telemetry.*` reservation.
        var specificity: Int {
            switch self {
            case .exact(let s): s.count * 2 + 1
            case .prefix(let s): s.count * 2
            }
        }

        public var description: String {
            switch self {
            case .exact(let s): s
            case .prefix(let s): s + "*"
            }
        }
    }

    public let pattern: Pattern
    public let policy: ChannelPolicy

    public init(_ pattern: Pattern, _ policy: ChannelPolicy) {
        self.pattern = pattern
        self.policy = policy
    }
}
