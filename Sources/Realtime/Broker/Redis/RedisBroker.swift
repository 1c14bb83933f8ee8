import Logging
import NIOCore
import Redis
import ServiceLifecycle

/// The broker for several replicas: offsets, epochs and history live in Redis (one script call per
/// publication assigns the offset, appends to the capped history and publishes), and every replica
/// receives the channels its clients watch over one pub/sub connection (`RedisFanIn`).
///
/// Publishing never delivers locally: a publication reaches this replica's subscribers the same way
/// as everyone else's — through Redis — so all replicas see one order.
public final class RedisBroker: Broker, Service {
    public struct Options: Sendable {
        /// How often the self-publish probe runs.
        public var probeInterval: Duration = .seconds(1)
        /// A probe not back within this marks the subscription stuck (reconnect) and the broker unhealthy.
        public var stuckAfter: Duration = .seconds(3)
        public var client = RedisClient.Options()

        public init() {}
    }

    public let kind = "redis"
    public let replicaID: String
    private let client: RedisClient
    private let log: RedisChannelLog
    private let fanIn: RedisFanIn
    private let options: Options
    private let logger: Logger

    public init(url: RedisURL, replicaID: String, registry: ChannelRegistry, options: Options = Options(), group: any EventLoopGroup, logger: Logger) {
        self.replicaID = replicaID
        self.options = options
        self.logger = logger
        client = RedisClient(url: url, options: options.client, group: group, logger: logger)
        log = RedisChannelLog(connection: client)
        fanIn = RedisFanIn(
            url: url, replicaID: replicaID, client: client, registry: registry,
            options: .init(probeInterval: options.probeInterval, stuckAfter: options.stuckAfter, connectTimeout: options.client.connectTimeout),
            group: group, logger: logger
        )
    }

    /// Connections to Redis stay up (and come back) until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask { await self.client.run() }
                tasks.addTask { await self.fanIn.run() }
                await tasks.waitForAll()
            }
        }
    }

    public func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {
        fanIn.start(deliver: deliver, lost: lost)
    }

    public func setInterest(_ interested: Bool, in channel: String) async {
        if interested { await fanIn.add(channel) } else { fanIn.remove(channel) }
    }

    public func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication {
        do {
            let (epoch, offset) = try await log.append(
                channel: channel, data: data, historySize: policy.historySize, historyAge: policy.historyTTL, newEpoch: RedisFanIn.newEpoch()
            )
            return Publication(channel: channel, position: StreamPosition(epoch: epoch, offset: offset), data: data, delivery: policy.delivery)
        } catch {
            throw BrokerError(channel: channel, reason: error.description)
        }
    }

    public func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery {
        let latestValue = policy.delivery == .latest
        do {
            // A fresh subscription to a latest-value channel reads the newest entry in the same
            // call that reads the position: one round trip for every dashboard opening.
            let replay = try await log.read(
                channel: channel, after: since?.offset, epoch: since?.epoch, newEpoch: RedisFanIn.newEpoch(), historyAge: policy.historyTTL,
                limit: since == nil ? (latestValue ? 1 : 0) : policy.historySize
            )
            let position = StreamPosition(epoch: replay.epoch, offset: replay.offset)
            fanIn.noteBaseline(channel, position)
            var recovery = Recovery(
                position: position,
                publications: since == nil ? [] : publications(replay.entries, epoch: replay.epoch, channel: channel, policy: policy),
                recovered: since == nil ? nil : replay.complete
            )
            if latestValue, replay.offset > 0 {
                var newest = replay.entries.last.flatMap { $0.offset == replay.offset ? $0 : nil }
                if newest == nil {
                    newest = try await log.newest(channel: channel, count: 1, newEpoch: replay.epoch, historyAge: policy.historyTTL).entries.last
                }
                recovery.latest = newest.map { publications([$0], epoch: replay.epoch, channel: channel, policy: policy)[0] }
            }
            return recovery
        } catch {
            throw BrokerError(channel: channel, reason: error.description)
        }
    }

    public func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery {
        do {
            let replay = try await log.newest(channel: channel, count: limit, newEpoch: RedisFanIn.newEpoch(), historyAge: policy.historyTTL)
            return Recovery(
                position: StreamPosition(epoch: replay.epoch, offset: replay.offset),
                publications: publications(replay.entries, epoch: replay.epoch, channel: channel, policy: policy), recovered: nil
            )
        } catch {
            throw BrokerError(channel: channel, reason: error.description)
        }
    }

    /// Every channel Redis holds a position for (SCAN, at most `limit`).
    public func channels() async -> [String: StreamPosition] {
        var result: [String: StreamPosition] = [:]
        var cursor = "0"
        let limit = 10_000
        repeat {
            guard case .array(let reply)? = try? await client.send(RESPCommand("SCAN", cursor, "MATCH", "nebula:{*}:meta", "COUNT", "1000")),
                reply.count == 2, let next = reply[0].string, case .array(let keys) = reply[1]
            else { break }
            cursor = next
            let names = keys.compactMap { $0.string.flatMap(RedisChannelLog.channel(ofMetaKey:)) }
            await withTaskGroup(of: (String, StreamPosition?).self) { tasks in
                for name in names {
                    tasks.addTask {
                        let meta = try? await self.client.send(RESPCommand("HMGET", "nebula:{\(name)}:meta", "epoch", "offset"))
                        guard case .array(let fields)? = meta, fields.count == 2, let epoch = fields[0].string else { return (name, nil) }
                        return (name, StreamPosition(epoch: epoch, offset: fields[1].string.flatMap { UInt64($0) } ?? 0))
                    }
                }
                for await (name, position) in tasks { if let position { result[name] = position } }
            }
        } while cursor != "0" && result.count < limit
        return result
    }

    public func health() async -> ComponentHealth {
        let status = fanIn.status()
        let connected = client.isConnected
        var details = ["kind": kind, "redis": "\(client.url)", "replica": replicaID, "subscriptions": "\(fanIn.subscriptionCount)"]
        if let roundTrip = status.roundTrip {
            let (seconds, attoseconds) = roundTrip.components
            let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
            details["probe_ms"] = "\((milliseconds * 100).rounded() / 100)"
        }
        var problems: [String] = []
        if !connected { problems.append("commands: \(client.lastError ?? "not connected")") }
        if !status.live { problems.append("subscription down") } else if status.stale { problems.append("probe not returned") }
        if !problems.isEmpty { details["error"] = problems.joined(separator: "; ") }
        return ComponentHealth(healthy: problems.isEmpty, details: details)
    }

    private func publications(_ entries: [RedisChannelLog.Entry], epoch: String, channel: String, policy: ChannelPolicy) -> [Publication] {
        entries.map { Publication(channel: channel, position: StreamPosition(epoch: epoch, offset: $0.offset), data: $0.data, delivery: policy.delivery) }
    }
}
