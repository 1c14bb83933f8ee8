/// Assigns offsets, keeps history and fans publications out — within one process, or (issue 5)
/// across replicas through Redis. The hub talks only to this interface.
public protocol Broker: Sendable {
    /// Short name for /healthz ("in-process", "redis").
    var kind: String { get }

    /// Sets where publications are delivered. Called once, before anything is published.
    /// Deliveries for one channel arrive in offset order. `lost(channel, reason)` says that
    /// publications on an ordered channel were lost for this process's subscribers (history
    /// trimmed or wiped while it could not receive): they must resubscribe and learn it.
    func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void)

    /// Tells the broker this process has (or no longer has) subscribers on a channel, so a
    /// distributed broker listens only where someone does. A channel nobody listens to costs nothing.
    func setInterest(_ interested: Bool, in channel: String) async

    /// Assigns the next offset, stores the publication in history according to `policy`, delivers it.
    func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication

    /// The channel's current position and what was published after `since`, if still in history.
    func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery

    /// The newest `limit` publications still in history, oldest first.
    func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery

    /// Channels that currently have state, for `GET /api/v1/channels`.
    func channels() async -> [String: StreamPosition]

    func health() async -> ComponentHealth
}

/// A channel's position plus a run of publications from its history.
public struct Recovery: Sendable {
    public var position: StreamPosition
    public var publications: [Publication]
    /// Set when `since` was given: whether `publications` is everything after it.
    public var recovered: Bool?
    /// For latest-value channels: the newest publication, whatever `since` said, so a client can
    /// render at once even when recovery failed.
    public var latest: Publication?

    public init(position: StreamPosition, publications: [Publication], recovered: Bool?, latest: Publication? = nil) {
        self.position = position
        self.publications = publications
        self.recovered = recovered
        self.latest = latest
    }
}

public struct BrokerError: Error, Sendable, CustomStringConvertible {
    public let channel: String
    public let reason: String

    public init(channel: String, reason: String) {
        self.channel = channel
        self.reason = reason
    }

    public var description: String { "broker failed on '\(channel)': \(reason)" }
}

/// One component's state for /healthz.
public struct ComponentHealth: Sendable, Equatable {
    public var healthy: Bool
    public var details: [String: String]

    public init(healthy: Bool, details: [String: String] = [:]) {
        self.healthy = healthy
        self.details = details
    }
}
