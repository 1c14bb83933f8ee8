import NIOConcurrencyHelpers

/// The single-node broker: offsets, history and delivery in memory. History does not survive a
/// restart, so every channel gets a fresh epoch per process — clients then learn `recovered: false`.
public final class InProcessBroker: Broker {
    public let kind = "in-process"

    private struct State {
        var channels: [String: ChannelHistory] = [:]
        var interested: Set<String> = []
        var deliver: (@Sendable (Publication) -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    private let makeEpoch: @Sendable () -> String

    public init(makeEpoch: @escaping @Sendable () -> String = InProcessBroker.randomEpoch) {
        self.makeEpoch = makeEpoch
    }

    public static func randomEpoch() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        return String((0..<12).map { _ in alphabet.randomElement()! })
    }

    /// Nothing is ever lost between publishing and delivering in one process, so `lost` is unused.
    public func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {
        state.withLockedValue { $0.deliver = deliver }
    }

    /// A channel nobody listens to and that never had a publication is forgotten, so subscribing to
    /// ever new names cannot grow memory.
    public func setInterest(_ interested: Bool, in channel: String) async {
        state.withLockedValue { state in
            if interested {
                state.interested.insert(channel)
            } else {
                state.interested.remove(channel)
                if state.channels[channel]?.offset == 0 { state.channels[channel] = nil }
            }
        }
    }

    /// Forgets channels with no listeners whose history has expired and that saw no publication
    /// for `idle`. Until then an expired channel keeps its epoch and offset (a few bytes), so a
    /// client that missed nothing still recovers. Run periodically.
    public func prune(idle: Duration, policies: (String) -> ChannelPolicy?) {
        state.withLockedValue { state in
            let now = ContinuousClock.now
            for name in Array(state.channels.keys) where !state.interested.contains(name) {
                guard let policy = policies(name) else { continue }
                state.channels[name]!.expire(policy: policy, now: now)
                let history = state.channels[name]!
                let quiet = history.lastPublishedAt.map { now - $0 > idle } ?? true
                if history.publications.isEmpty, quiet { state.channels[name] = nil }
            }
        }
    }

    public func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication {
        // Delivery happens under the lock so that two concurrent publishers' publications reach
        // every subscriber in offset order; the hub's fan-out only hands work to event loops.
        state.withLockedValue { state in
            let now = ContinuousClock.now
            ensureChannel(channel, in: &state)
            let publication = state.channels[channel]!.append(data: data, channel: channel, policy: policy, now: now)
            state.deliver?(publication)
            return publication
        }
    }

    public func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery {
        state.withLockedValue { state in
            ensureChannel(channel, in: &state)
            state.channels[channel]!.expire(policy: policy, now: .now)
            let history = state.channels[channel]!
            var recovery = since.map { history.recover(since: $0) }
                ?? Recovery(position: history.position, publications: [], recovered: nil)
            if policy.delivery == .latest { recovery.latest = history.newest(1).last }
            return recovery
        }
    }

    public func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery {
        state.withLockedValue { state in
            ensureChannel(channel, in: &state)
            state.channels[channel]!.expire(policy: policy, now: .now)
            let history = state.channels[channel]!
            // Reading must not make a channel exist: only publishing or listening keeps state.
            if history.offset == 0, !state.interested.contains(channel) { state.channels[channel] = nil }
            return Recovery(position: history.position, publications: history.newest(limit), recovered: nil)
        }
    }

    public func channels() async -> [String: StreamPosition] {
        state.withLockedValue { $0.channels.mapValues(\.position) }
    }

    public func health() async -> ComponentHealth {
        ComponentHealth(healthy: true, details: ["kind": kind])
    }

    private func ensureChannel(_ channel: String, in state: inout State) {
        if state.channels[channel] == nil { state.channels[channel] = ChannelHistory(epoch: makeEpoch()) }
    }
}
