import Foundation
import Logging
import ServiceLifecycle
import Store
import Telemetry

/// Writes every new sample (host, containers, filesystems) into the metric history, and prunes each
/// tier to its age once an hour, so the database stays bounded by itself.
final class HistoryService: Service, Sendable {
    let repository: MetricHistoryRepository
    let host: HostTelemetryService
    let containers: ContainerTelemetryService
    let storage: StorageService
    let interval: Duration
    let logger: Logger
    let coordination: ReplicaCoordination

    init(repository: MetricHistoryRepository, host: HostTelemetryService, containers: ContainerTelemetryService, storage: StorageService, coordination: ReplicaCoordination, interval: Duration, logger: Logger) {
        self.coordination = coordination
        self.repository = repository
        self.host = host
        self.containers = containers
        self.storage = storage
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        var lastHost: Int64 = 0
        var lastContainers: Int64 = 0
        var lastPrune = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            // One replica writes the shared history; the others would only duplicate its rows.
            guard coordination.isLeader else { continue }
            if let (snapshot, at) = host.latest, at != lastHost {
                lastHost = at
                await record(Self.samples(host: snapshot, filesystems: storage.snapshot.filesystems), at: at)
            }
            if let snapshot = containers.snapshot, snapshot.engine.status == "ok", snapshot.collectedAt != lastContainers {
                lastContainers = snapshot.collectedAt
                await record(Self.samples(containers: snapshot.containers), at: snapshot.collectedAt)
            }
            if ContinuousClock.now - lastPrune >= .seconds(3600) {
                lastPrune = .now
                do {
                    let removed = try await repository.prune(now: Clock.nowMilliseconds())
                    logger.debug("history pruned", metadata: ["points": "\(removed)"])
                } catch {
                    logger.warning("history not pruned", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func record(_ samples: [MetricSample], at time: Int64) async {
        do {
            try await repository.record(samples, at: time)
        } catch {
            logger.warning("history not recorded", metadata: ["error": "\(error)"])
        }
    }

    static func samples(host: HostSnapshot, filesystems: [HostSnapshot.Filesystem]) -> [MetricSample] {
        var samples = [
            MetricSample(kind: "host", subject: "host", metric: "cpu_percent", value: host.cpu.totalPercent),
            MetricSample(kind: "host", subject: "host", metric: "memory_used_bytes", value: Double(host.memory.usedBytes)),
        ]
        for fs in filesystems {
            samples.append(MetricSample(kind: "filesystem", subject: fs.mount, metric: "used_percent", value: fs.usedPercent))
        }
        return samples
    }

    /// The numbers a container chart shows; stopped containers and first samples have none.
    static func samples(containers: [ContainerReport]) -> [MetricSample] {
        var samples: [MetricSample] = []
        for c in containers where c.state == "running" {
            let values: [(String, Double?)] = [
                ("cpu_percent", c.usage.cpuPercent), ("memory_bytes", c.usage.memoryBytes.map(Double.init)),
                ("network_rx_bytes_per_second", c.usage.networkRxBytesPerSecond), ("network_tx_bytes_per_second", c.usage.networkTxBytesPerSecond),
                ("block_read_bytes_per_second", c.usage.blockReadBytesPerSecond), ("block_write_bytes_per_second", c.usage.blockWriteBytesPerSecond),
            ]
            for (metric, value) in values {
                if let value { samples.append(MetricSample(kind: "container", subject: c.name, metric: metric, value: value)) }
            }
        }
        return samples
    }
}
