import Logging
import NIOConcurrencyHelpers
import NIOCore
import Redis
import ServiceLifecycle

/// Which replica runs the work that must happen once per cluster: publishing host, container and
/// storage telemetry, evaluating alerts (one notification, not one per replica), writing metric
/// history, following container logs. Alone (in-process broker) this process always leads. With
/// Redis, a lease (`nebula:lease:producers`) elects one replica; when it stops or dies, another
/// takes over within the lease's time to live.
final class ReplicaCoordination: Service, Sendable {
    private struct Cluster: Sendable {
        let client: RedisClient
        let lease: RedisLease
    }

    private let cluster: Cluster?
    private let leading: NIOLockedValueBox<Bool>
    private let logger: Logger

    /// A single process: always the leader.
    init(logger: Logger) {
        cluster = nil
        leading = NIOLockedValueBox(true)
        self.logger = logger
    }

    init(redis url: RedisURL, replicaID: String, leaseTTL: Duration, group: any EventLoopGroup, logger: Logger) {
        let client = RedisClient(url: url, group: group, logger: logger)
        cluster = Cluster(client: client, lease: RedisLease(name: "producers", holder: replicaID, ttl: leaseTTL, sender: client))
        leading = NIOLockedValueBox(false)
        self.logger = logger
    }

    var isLeader: Bool { leading.withLockedValue { $0 } }
    var isClustered: Bool { cluster != nil }

    /// Channels starting with `prefix` that have subscribers on any replica (Redis pub/sub
    /// channels); nil alone, or when Redis cannot say.
    func channelsWatched(prefix: String) async -> Set<String>? {
        guard let cluster else { return nil }
        let pattern = RedisChannelLog.pubSubChannel(prefix) + "*"
        guard case .array(let names)? = try? await cluster.client.send(RESPCommand("PUBSUB", "CHANNELS", pattern)) else { return nil }
        let strip = RedisChannelLog.pubSubChannel("").count
        return Set(names.compactMap { $0.string.map { String($0.dropFirst(strip)) } })
    }

    func run() async throws {
        guard let cluster else {
            try? await gracefulShutdown()
            return
        }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await cluster.client.run() }
            tasks.addTask { await self.hold(cluster.lease) }
            // `hold` returns on shutdown, after handing the lease over; then the connection goes.
            await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Renews (or tries to take) the lease three times per time to live. While Redis cannot be
    /// reached the current role is kept: nobody else can take the lease meanwhile, and a leader
    /// that stopped evaluating alerts during a Redis outage would hide exactly the outage.
    private func hold(_ lease: RedisLease) async {
        while !Task.isCancelledOrShuttingDown {
            do {
                let held = try await lease.acquireOrRenew()
                let changed = leading.withLockedValue { leading in
                    defer { leading = held }
                    return leading != held
                }
                if changed { logger.notice(held ? "this replica now runs the cluster's producers" : "another replica runs the cluster's producers") }
            } catch {
                logger.debug("producer lease not renewed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: lease.ttl / 3) }
        }
        if leading.withLockedValue({ $0 }) {
            // Hand over at once instead of after the lease runs out.
            try? await lease.release()
            leading.withLockedValue { $0 = false }
        }
    }
}
