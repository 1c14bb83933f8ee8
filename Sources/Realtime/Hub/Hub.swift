import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Routes publications to sessions. A message enters through `publish` (from a client command,
/// the HTTP API or a server producer), gets its offset from the broker, and leaves through
/// `fanOut`, which hands every event loop its subscribers in one task.
public final class Hub: Sendable {
    public struct Limits: Sendable {
        public var maxSubscriptionsPerSession: Int

        public init(maxSubscriptionsPerSession: Int = 1024) {
            self.maxSubscriptionsPerSession = maxSubscriptionsPerSession
        }
    }

    public let registry: ChannelRegistry
    public let broker: any Broker
    public let metrics: RealtimeMetrics
    let limits: Limits
    let ownership: (any ChannelOwnership)?
    let logger: Logger
    private let channels = NIOLockedValueBox([String: SubscriberGroups]())
    private let backlogs = NIOLockedValueBox([ObjectIdentifier: FanOutBacklog]())
    private let interestObservers = NIOLockedValueBox([(prefix: String, observer: @Sendable (String, Bool) -> Void)]())

    public init(
        registry: ChannelRegistry, broker: any Broker, metrics: RealtimeMetrics = RealtimeMetrics(), limits: Limits = Limits(),
        ownership: (any ChannelOwnership)? = nil, logger: Logger = Logger(label: "nebula.hub")
    ) {
        self.registry = registry
        self.ownership = ownership
        self.broker = broker
        self.metrics = metrics
        self.limits = limits
        self.logger = logger
        broker.start(
            deliver: { [weak self] publication in self?.fanOut(publication) },
            lost: { [weak self] channel, reason in self?.historyLost(on: channel, reason: reason) }
        )
    }

    // MARK: Commands

    public func subscribe(
        _ session: Session,
        to channel: String,
        since: StreamPosition?,
        reply: @Sendable (DeliveryMode, Recovery) -> OutboundMessage
    ) async throws(ProtocolError) {
        let family = try registry.family(for: channel)
        guard await mayRead(channel, of: family, principal: session.principal) else {
            throw ProtocolError(.forbidden, "your key or role may not subscribe to '\(channel)'")
        }
        guard !session.isSubscribed(to: channel) else {
            throw ProtocolError(.alreadySubscribed, "already subscribed to '\(channel)'")
        }
        guard session.subscriptionCount < limits.maxSubscriptionsPerSession else {
            throw ProtocolError(.tooManySubscriptions, "at most \(limits.maxSubscriptionsPerSession) subscriptions per connection")
        }
        guard session.beginSubscription(channel) else {
            throw ProtocolError(.alreadySubscribed, "already subscribed to '\(channel)'")
        }
        // Join the fan-out before asking the broker where the channel stands, so nothing published
        // in between can be missed; the session drops what the reply already covers.
        let isFirst = addSubscriber(session, to: channel)
        if isFirst { await interestChanged(channel, true) }
        let recovery: Recovery
        do {
            recovery = try await broker.recover(channel: channel, policy: family.policy, since: since)
        } catch {
            session.endSubscription(channel)
            if removeSubscriber(session, from: channel) { await interestChanged(channel, false) }
            throw ProtocolError(.internal, error.description)
        }
        session.completeSubscription(channel, at: recovery.position, reply: reply(family.policy.delivery, recovery))
        metrics.subscriptions.increment()
    }

    public func unsubscribe(_ session: Session, from channel: String) async throws(ProtocolError) {
        guard session.endSubscription(channel) else {
            throw ProtocolError(.notSubscribed, "not subscribed to '\(channel)'")
        }
        metrics.subscriptions.decrement()
        if removeSubscriber(session, from: channel) { await interestChanged(channel, false) }
    }

    @discardableResult
    public func publish(_ data: JSONValue, to channel: String, by principal: Principal) async throws(ProtocolError) -> StreamPosition {
        let family = try registry.family(for: channel)
        guard family.policy.publish.allows(principal, on: channel) else {
            let who = family.policy.publish == .server ? "only the server publishes to" : "your key or role may not publish to"
            throw ProtocolError(.forbidden, "\(who) '\(channel)'")
        }
        do {
            let publication = try await broker.publish(channel: channel, data: data.jsonBytes, policy: family.policy)
            metrics.publicationsIn.increment()
            return publication.position
        } catch {
            logger.error("publish failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            throw ProtocolError(.internal, error.description)
        }
    }

    public func history(of channel: String, limit: Int?, for principal: Principal) async throws(ProtocolError) -> Recovery {
        let family = try registry.family(for: channel)
        guard await mayRead(channel, of: family, principal: principal) else {
            throw ProtocolError(.forbidden, "your key or role may not read '\(channel)'")
        }
        let size = family.policy.historySize
        do {
            return try await broker.history(channel: channel, policy: family.policy, limit: max(0, min(limit ?? size, size)))
        } catch {
            throw ProtocolError(.internal, error.description)
        }
    }

    /// Drops everything the session had; called once its connection is gone.
    public func disconnect(_ session: Session) async {
        for channel in session.endAllSubscriptions() {
            metrics.subscriptions.decrement()
            if removeSubscriber(session, from: channel) { await interestChanged(channel, false) }
        }
    }

    /// Tells `observer` when a channel starting with `prefix` gains its first local subscriber (true)
    /// or loses its last (false): producers that cost something only while watched (log tails) start
    /// and stop on it.
    public func observeInterest(prefix: String, _ observer: @escaping @Sendable (String, Bool) -> Void) {
        interestObservers.withLockedValue { $0.append((prefix, observer)) }
    }

    private func interestChanged(_ channel: String, _ interested: Bool) async {
        await broker.setInterest(interested, in: channel)
        let observers = interestObservers.withLockedValue { $0.filter { channel.hasPrefix($0.prefix) } }
        for entry in observers { entry.observer(channel, interested) }
    }

    /// Whether `principal` may subscribe to or read the history of `channel` (false for unknown channels).
    public func mayRead(_ channel: String, principal: Principal) async -> Bool {
        guard let family = try? registry.family(for: channel) else { return false }
        return await mayRead(channel, of: family, principal: principal)
    }

    private func mayRead(_ channel: String, of family: ChannelFamily, principal: Principal) async -> Bool {
        if family.policy.subscribe.allows(principal, on: channel) { return true }
        guard family.policy.subscribe == .owner, principal.has(.read), principal.canSee(channel), let ownership else { return false }
        return await ownership.grants(channel, to: principal)
    }

    public func subscriberCounts() -> [String: Int] {
        channels.withLockedValue { $0.mapValues(\.count) }
    }

    // MARK: Fan-out

    func fanOut(_ publication: Publication) {
        let groups = channels.withLockedValue { channels in channels[publication.channel]?.snapshots() } ?? []
        for group in groups {
            let sessions = group.sessions
            metrics.deliveries.increment(by: sessions.count)
            if let loop = group.eventLoop {
                let backlog = backlog(of: loop)
                backlog.enqueued()
                loop.execute {
                    let flush = backlog.started()
                    for session in sessions { session.deliver(publication, flush: flush) }
                }
            } else {
                for session in sessions { session.deliver(publication) }
            }
        }
    }

    private func backlog(of loop: any EventLoop) -> FanOutBacklog {
        backlogs.withLockedValue { backlogs in
            if let existing = backlogs[ObjectIdentifier(loop)] { return existing }
            let backlog = FanOutBacklog()
            backlogs[ObjectIdentifier(loop)] = backlog
            return backlog
        }
    }

    /// The broker could not deliver everything on `channel`: every settled subscription to it ends
    /// with an `unsubscribed` push, so its client subscribes again with `since` and learns
    /// `recovered: false` instead of silently skipping publications. Subscriptions still waiting
    /// for their reply keep going: that reply states the position they start from.
    func historyLost(on channel: String, reason: String) {
        let notice = Replies.unsubscribed(channel: channel, code: "history_lost", message: reason)
        let sessions = channels.withLockedValue { $0[channel]?.snapshots().flatMap(\.sessions) } ?? []
        var ended: [Session] = []
        for session in sessions where session.endSettledSubscription(channel) {
            metrics.subscriptions.decrement()
            session.send(notice)
            ended.append(session)
        }
        let emptied = channels.withLockedValue { channels in
            guard channels[channel] != nil else { return false }
            for session in ended { channels[channel]!.remove(session) }
            guard channels[channel]!.count == 0 else { return false }
            channels[channel] = nil
            return true
        }
        logger.warning("subscribers told to resubscribe", metadata: ["channel": "\(channel)", "sessions": "\(ended.count)", "reason": "\(reason)"])
        if emptied { Task { await self.interestChanged(channel, false) } }
    }

    /// True when this was the channel's first local subscriber.
    private func addSubscriber(_ session: Session, to channel: String) -> Bool {
        channels.withLockedValue { channels in
            let isFirst = channels[channel] == nil
            channels[channel, default: SubscriberGroups()].insert(session)
            return isFirst
        }
    }

    /// True when the channel has no local subscribers left.
    @discardableResult
    private func removeSubscriber(_ session: Session, from channel: String) -> Bool {
        channels.withLockedValue { channels in
            guard channels[channel] != nil else { return false }
            channels[channel]!.remove(session)
            guard channels[channel]!.count == 0 else { return false }
            channels[channel] = nil
            return true
        }
    }
}
