/// How a channel delivers to subscribers.
public enum DeliveryMode: String, Sendable {
    /// Every publication reaches every subscriber in order; one that cannot keep up is disconnected.
    case ordered
    /// Subscribers need only the newest value; stale queued values are replaced (conflated).
    case latest
}

/// Who may subscribe to or publish on a family's channels.
public enum AccessRule: String, Sendable {
    /// Any authenticated principal with the `read` scope.
    case read
    /// Principals with the `publish` scope.
    case publish
    /// Principals with the `admin` scope (the live audit log).
    case admin
    /// Only the server's own producers.
    case server
    /// The principal the hub's `ChannelOwnership` names for the channel (with `read`), and admins.
    case owner

    func allows(_ principal: Principal, on channel: String) -> Bool {
        switch self {
        case .read: principal.has(.read) && principal.canSee(channel)
        case .publish: principal.canPublish(to: channel)
        case .admin: principal.has(.admin) && principal.canSee(channel)
        case .server: principal == .server
        // Without the owner's name only admins pass; `Hub.mayRead` asks the ownership first.
        case .owner: principal.has(.admin) && principal.canSee(channel)
        }
    }
}

/// Everything the server decides about a channel, declared once per family.
public struct ChannelPolicy: Sendable {
    public var delivery: DeliveryMode
    /// Newest publications kept for recovery and the `history` op.
    public var historySize: Int
    /// Publications older than this are dropped from history; nil keeps them until pushed out by size.
    public var historyTTL: Duration?
    public var subscribe: AccessRule
    public var publish: AccessRule

    public init(delivery: DeliveryMode, historySize: Int, historyTTL: Duration?, subscribe: AccessRule, publish: AccessRule) {
        self.delivery = delivery
        self.historySize = historySize
        self.historyTTL = historyTTL
        self.subscribe = subscribe
        self.publish = publish
    }
}
