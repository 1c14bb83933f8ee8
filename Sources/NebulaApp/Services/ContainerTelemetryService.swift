import Docker
import Foundation
import Logging
import NIOConcurrencyHelpers
import Realtime
import ServiceLifecycle
import Store
import Telemetry

/// Publishes every container's state and usage each interval on `telemetry.containers` (summary)
/// and `telemetry.container.<id>` (detail), and at once whenever the engine reports an event
/// (start, die, health change …) between samples. A missing or vanished engine is reported on the
/// channel and in `/healthz`; the service keeps trying with backoff and never stops the server.
final class ContainerTelemetryService: Service, Sendable {
    static let summaryChannel = "telemetry.containers"
    static let detailPrefix = "telemetry.container."

    let collector: ContainerCollector
    let client: DockerClient
    let hub: Hub
    let coordination: ReplicaCoordination
    let interval: Duration
    let logger: Logger
    private let latest = NIOLockedValueBox<ContainerSnapshot?>(nil)
    /// Serializes publishing, so snapshots leave in the order their listings were taken.
    private let publishing = AsyncMutex()
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    init(client: DockerClient, cgroups: CgroupStatsReader?, hub: Hub, coordination: ReplicaCoordination, interval: Duration, logger: Logger) {
        self.coordination = coordination
        self.client = client
        self.collector = ContainerCollector(client: client, cgroups: cgroups)
        self.hub = hub
        self.interval = interval
        self.logger = logger
    }

    /// The last snapshot published, for `/healthz` and `GET /api/v1/containers`.
    var snapshot: ContainerSnapshot? { latest.withLockedValue { $0 } }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampleLoop() }
            group.addTask { await self.eventLoop() }
            await group.waitForAll()
        }
        await client.shutdown()
    }

    /// Publishes the current state now (after an action), without waiting for the event.
    func refresh(_ containerID: String?) async {
        do {
            await publish(try await collector.refresh(invalidating: containerID))
        } catch {
            await publish(await collector.unavailable(error))
        }
    }

    private func sampleLoop() async {
        var backoff = Backoff()
        while !Task.isCancelledOrShuttingDown {
            let wait: Duration
            do {
                await publish(try await collector.collect())
                backoff.reset()
                wait = interval
            } catch {
                if snapshot?.engine.status != "unavailable" {
                    logger.warning("Docker engine unavailable", metadata: ["endpoint": "\(client.endpoint)", "error": "\(error)"])
                }
                await publish(await collector.unavailable(error))
                wait = min(backoff.next(), interval)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
    }

    /// Follows `/events`; each event republishes at once. Reconnects with backoff when the stream
    /// ends (engine restarted or gone).
    private func eventLoop() async {
        var backoff = Backoff()
        while !Task.isCancelledOrShuttingDown {
            // The stream stays open as long as the engine runs: only shutdown ends the wait.
            let received = (try? await cancelWhenGracefulShutdown { await self.followEvents() }) ?? false
            if received { backoff.reset() }
            let wait = backoff.next()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
    }

    /// One `/events` connection until it ends; answers whether any event came through it.
    private func followEvents() async -> Bool {
        var received = false
        do {
            for try await event in client.events() {
                received = true
                logger.debug("container event", metadata: ["action": "\(event.action)", "container": "\(event.containerID.prefix(12))"])
                await refresh(event.kind == "destroy" ? nil : event.containerID)
            }
        } catch {
            logger.debug("event stream ended", metadata: ["error": "\(error)"])
        }
        return received
    }

    private func publish(_ snapshot: ContainerSnapshot) async {
        try? await publishing.withLock { await self.publishInOrder(snapshot) }
    }

    /// A sample whose listing was overtaken by an event-driven refresh (a stop during the sample)
    /// would put the old state back: it is republished with a fresh listing instead.
    private func publishInOrder(_ snapshot: ContainerSnapshot) async {
        var snapshot = snapshot
        if let current = latest.withLockedValue({ $0 }), snapshot.engine.status == "ok", current.engine.status == "ok",
            snapshot.sequence < current.sequence
        {
            guard let fresh = try? await collector.refresh(invalidating: nil) else { return }
            snapshot = fresh
        }
        latest.withLockedValue { $0 = snapshot }
        // With replicas, one publishes for the cluster; every replica keeps its snapshot for the API.
        guard coordination.isLeader else { return }
        do {
            try await hub.publish(try JSONParser.parse(Array(try encoder.encode(snapshot))), to: Self.summaryChannel, by: .server)
            for container in snapshot.containers {
                try await hub.publish(
                    try JSONParser.parse(Array(try encoder.encode(container))), to: Self.detailPrefix + container.id, by: .server
                )
            }
        } catch {
            logger.error("container telemetry not published", metadata: ["error": "\(error)"])
        }
    }

    /// The engine is an optional source: its absence is reported, but does not make this replica
    /// unready (a homelab box without Docker still has a dashboard).
    func health() -> (status: String, details: [String: String]) {
        guard let snapshot else { return ("starting", ["endpoint": client.endpoint.description]) }
        var details = ["endpoint": snapshot.engine.endpoint, "containers": String(snapshot.containers.count)]
        if let version = snapshot.engine.version { details["version"] = version }
        if let error = snapshot.engine.error { details["error"] = error }
        return (snapshot.engine.status, details)
    }
}

/// 1 s doubling to 30 s between attempts to reach something that is gone.
struct Backoff {
    private var current: Duration = .seconds(1)

    mutating func next() -> Duration {
        defer { current = min(current * 2, .seconds(30)) }
        return current
    }

    mutating func reset() {
        current = .seconds(1)
    }
}
