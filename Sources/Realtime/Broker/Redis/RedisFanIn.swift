import Logging
import NIOConcurrencyHelpers
import NIOCore
import Redis

/// The receiving half of the Redis broker: one pub/sub connection per replica, subscribed to
/// exactly the channels that have local subscribers (plus this replica's probe channel).
///
/// A publication enters from Redis in `receive`, passes the channel's cursor (duplicates dropped,
/// gaps filled from history) and leaves through `deliver` to the hub. When the connection drops,
/// `run` reconnects with backoff, subscribes to every channel again and replays what was missed
/// from the Redis history before taking live messages.
final class RedisFanIn: Sendable {
    struct Options: Sendable {
        var probeInterval: Duration
        var stuckAfter: Duration
        var connectTimeout: Duration
    }

    private struct State {
        var deliver: (@Sendable (Publication) -> Void)?
        var lost: (@Sendable (String, String) -> Void)?
        /// Channels with local subscribers.
        var desired = ChannelInterest()
        /// Channels the current connection is subscribed to, not counting those whose UNSUBSCRIBE
        /// is on its way: a subscriber arriving then must wait for the SUBSCRIBE that follows it.
        var subscribed: Set<String> = []
        var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]
        var cursors = DeliveryCursors()
        var subscriber: RedisSubscriber?
        var live = false
        var wake: AsyncStream<Void>.Continuation?
        var probes = ProbeTracker()
    }

    let url: RedisURL
    let probeChannel: String
    private let log: RedisChannelLog
    private let client: RedisClient
    private let registry: ChannelRegistry
    private let options: Options
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(
        url: RedisURL, replicaID: String, client: RedisClient, registry: ChannelRegistry, options: Options, group: any EventLoopGroup,
        logger: Logger
    ) {
        self.url = url
        self.probeChannel = "nebula:probe:\(replicaID)"
        self.client = client
        self.log = RedisChannelLog(connection: client)
        self.registry = registry
        self.options = options
        self.group = group
        self.logger = logger
    }

    func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {
        state.withLockedValue {
            $0.deliver = deliver
            $0.lost = lost
        }
    }

    // MARK: Interest

    /// Returns once Redis confirmed the subscription, or at once while Redis is away (the channel
    /// is subscribed on reconnection, and what was published meanwhile is replayed).
    func add(_ channel: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = state.withLockedValue { state in
                state.desired.declare(channel)
                guard state.subscriber != nil, !state.subscribed.contains(channel) else { return false }
                state.waiters[channel, default: []].append(continuation)
                state.wake?.yield()
                return true
            }
            if !waiting { continuation.resume() }
        }
    }

    func remove(_ channel: String) {
        state.withLockedValue { state in
            guard state.desired.release(channel) else { return }
            state.cursors.remove(channel)
            state.wake?.yield()
        }
    }

    /// See `DeliveryCursors.setBaseline`.
    func noteBaseline(_ channel: String, _ position: StreamPosition) {
        state.withLockedValue { state in
            if state.desired.contains(channel) { state.cursors.setBaseline(channel, position) }
        }
    }

    var subscriptionCount: Int { state.withLockedValue { $0.subscribed.count } }

    // MARK: Health

    struct Status {
        var live: Bool
        var stale: Bool
        var roundTrip: Duration?
    }

    func status(now: ContinuousClock.Instant = .now) -> Status {
        state.withLockedValue { state in
            let stale = state.probes.lastReturnAt.map { now - $0 > options.stuckAfter } ?? true
            return Status(live: state.live, stale: stale, roundTrip: state.probes.lastRoundTrip)
        }
    }

    // MARK: Connection

    /// Keeps the subscription up until cancelled.
    func run() async {
        var backoff = ReconnectBackoff()
        while !Task.isCancelled {
            do {
                let subscriber = try await RedisSubscriber.connect(url, on: group, timeout: TimeAmount(options.connectTimeout))
                let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                state.withLockedValue {
                    $0.subscriber = subscriber
                    $0.wake = wake
                }
                let connectedAt = ContinuousClock.now
                await withTaskCancellationHandler {
                    await serve(subscriber, wakeups: wakeups)
                } onCancel: {
                    Task { await subscriber.close() }
                }
                if ContinuousClock.now - connectedAt > .seconds(10) { backoff.reset() }
                await subscriber.close()
            } catch {
                logger.warning("redis subscriber unreachable", metadata: ["redis": "\(url)", "error": "\(error)"])
            }
            goDown()
            if Task.isCancelled { break }
            try? await Task.sleep(for: backoff.next())
        }
        goDown()
    }

    private func serve(_ subscriber: RedisSubscriber, wakeups: AsyncStream<Void>) async {
        do {
            let channels = state.withLockedValue { $0.desired.channels }
            try await subscriber.subscribe([probeChannel] + channels.map(RedisChannelLog.pubSubChannel))
            let ready = state.withLockedValue { state in
                state.subscribed = channels
                state.probes.restart(at: .now)
                return takeWaiters(for: channels, in: &state)
            }
            ready.forEach { $0.resume() }
            try await replayMissed()
            state.withLockedValue { $0.live = true }
            logger.info("redis subscription live", metadata: ["redis": "\(url)", "channels": "\(channels.count)"])
        } catch {
            logger.warning("redis subscription failed", metadata: ["redis": "\(url)", "error": "\(error)"])
            return
        }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await message in subscriber.messages {
                    guard await self.receive(message) else {
                        await subscriber.close()
                        break
                    }
                }
            }
            tasks.addTask {
                for await _ in wakeups {
                    do {
                        try await self.synchronize(subscriber)
                    } catch {
                        await subscriber.close()
                        break
                    }
                }
            }
            tasks.addTask { await self.probe(subscriber) }
            await tasks.next()
            tasks.cancelAll()
        }
        logger.warning("redis subscription lost", metadata: ["redis": "\(url)"])
    }

    private func goDown() {
        let waiters = state.withLockedValue { state in
            state.subscriber = nil
            state.subscribed = []
            state.live = false
            state.wake?.finish()
            state.wake = nil
            defer { state.waiters = [:] }
            return state.waiters.values.flatMap { $0 }
        }
        waiters.forEach { $0.resume() }
    }

    private func takeWaiters(for channels: Set<String>, in state: inout State) -> [CheckedContinuation<Void, Never>] {
        var ready: [CheckedContinuation<Void, Never>] = []
        for channel in channels {
            if let waiting = state.waiters.removeValue(forKey: channel) { ready += waiting }
        }
        return ready
    }

    /// Brings the connection's subscriptions in line with local interest; bursts of interest
    /// changes that arrive while one batch is in flight go out together in the next.
    private func synchronize(_ subscriber: RedisSubscriber) async throws(RedisError) {
        while true {
            let (add, drop) = state.withLockedValue { state in
                let desired = state.desired.channels
                let drop = state.subscribed.subtracting(desired)
                state.subscribed.subtract(drop)
                return (desired.subtracting(state.subscribed), drop)
            }
            if add.isEmpty, drop.isEmpty { return }
            if !add.isEmpty {
                try await subscriber.subscribe(add.map(RedisChannelLog.pubSubChannel))
                let ready = state.withLockedValue { state in
                    state.subscribed.formUnion(add)
                    return takeWaiters(for: add, in: &state)
                }
                ready.forEach { $0.resume() }
            }
            if !drop.isEmpty {
                try await subscriber.unsubscribe(drop.map(RedisChannelLog.pubSubChannel))
            }
        }
    }

    // MARK: Receiving

    /// False when the subscription can no longer be trusted (history unreadable): the caller
    /// reconnects, which replays from the cursors.
    private func receive(_ message: RedisMessage) async -> Bool {
        if message.channel == probeChannel {
            let sequence = UInt64(String(decoding: message.payload, as: UTF8.self)) ?? 0
            state.withLockedValue { $0.probes.received(sequence, at: .now) }
            return true
        }
        let prefix = RedisChannelLog.pubSubChannel("")
        guard message.channel.hasPrefix(prefix), let (epoch, offset, data) = RedisChannelLog.decode(message.payload) else {
            logger.warning("unreadable message from redis", metadata: ["channel": "\(message.channel)"])
            return true
        }
        let channel = String(message.channel.dropFirst(prefix.count))
        guard let policy = try? registry.family(for: channel).policy else { return true }
        let position = StreamPosition(epoch: epoch, offset: offset)
        let step: DeliveryCursors.Step? = state.withLockedValue { state in
            guard state.desired.contains(channel) else { return nil }
            return state.cursors.classify(channel, position, delivery: policy.delivery)
        }
        switch step {
        case nil, .skip:
            return true
        case .deliver:
            deliver(Publication(channel: channel, position: position, data: data, delivery: policy.delivery))
            return true
        case .lost:
            declareLost(channel, reason: "the channel's history in Redis was lost (new epoch)")
            return true
        case .catchUp(let cursor):
            do {
                try await catchUp(channel, after: cursor, policy: policy)
                return true
            } catch {
                logger.warning("cannot fill a gap from redis history", metadata: ["channel": "\(channel)", "error": "\(error)"])
                return false
            }
        }
    }

    /// After a reconnection: every channel delivered on before gets what was published meanwhile.
    private func replayMissed() async throws(RedisError) {
        let cursors = state.withLockedValue { state in state.cursors.positions.filter { state.subscribed.contains($0.key) } }
        for (channel, cursor) in cursors {
            guard let policy = try? registry.family(for: channel).policy else { continue }
            try await catchUp(channel, after: cursor, policy: policy)
        }
    }

    private func catchUp(_ channel: String, after cursor: StreamPosition, policy: ChannelPolicy) async throws(RedisError) {
        let replay = try await log.read(
            channel: channel, after: cursor.offset, epoch: cursor.epoch, newEpoch: Self.newEpoch(), historyAge: policy.historyTTL,
            limit: policy.historySize
        )
        let current = StreamPosition(epoch: replay.epoch, offset: replay.offset)
        guard replay.complete || policy.delivery == .latest else {
            state.withLockedValue { $0.cursors.reset(channel, to: current) }
            declareLost(channel, reason: "publications missed while Redis was unreachable are no longer in its history")
            return
        }
        if !replay.complete {
            // Latest-value: the newest value is all a subscriber needs.
            let newest = try await log.newest(channel: channel, count: 1, newEpoch: Self.newEpoch(), historyAge: policy.historyTTL)
            guard let entry = newest.entries.last else { return }
            let position = StreamPosition(epoch: newest.epoch, offset: entry.offset)
            let isNewer = state.withLockedValue { state in
                if let cursor = state.cursors.positions[channel], cursor.epoch == position.epoch, cursor.offset >= position.offset { return false }
                state.cursors.reset(channel, to: position)
                return true
            }
            if isNewer { deliver(Publication(channel: channel, position: position, data: entry.data, delivery: .latest)) }
            return
        }
        for entry in replay.entries {
            let position = StreamPosition(epoch: replay.epoch, offset: entry.offset)
            guard state.withLockedValue({ $0.cursors.advance(channel, to: position) }) else { continue }
            deliver(Publication(channel: channel, position: position, data: entry.data, delivery: policy.delivery))
        }
    }

    private func deliver(_ publication: Publication) {
        state.withLockedValue { $0.deliver }?(publication)
    }

    private func declareLost(_ channel: String, reason: String) {
        logger.warning("history lost; subscribers told to resubscribe", metadata: ["channel": "\(channel)", "reason": "\(reason)"])
        state.withLockedValue { $0.lost }?(channel, reason)
    }

    // MARK: Probe

    private func probe(_ subscriber: RedisSubscriber) async {
        while !Task.isCancelled {
            let sequence = state.withLockedValue { state in
                let sequence = state.probes.takeSequence()
                state.probes.sending(sequence, at: .now)
                return sequence
            }
            let receivers = try? await client.send(RESPCommand("PUBLISH", probeChannel, "\(sequence)"))
            if receivers == nil { state.withLockedValue { $0.probes.failed(sequence) } }
            do {
                try await Task.sleep(for: options.probeInterval)
            } catch {
                return
            }
            let stuck = state.withLockedValue { $0.probes.isStuck(now: .now, limit: options.stuckAfter) }
            if stuck {
                logger.error("redis subscription stuck: probes published but not received; reconnecting", metadata: ["redis": "\(url)"])
                await subscriber.close()
                return
            }
        }
    }

    static func newEpoch() -> String { InProcessBroker.randomEpoch() }
}
