import Docker
import Foundation
import Logging
import NIOConcurrencyHelpers
import Realtime
import ServiceLifecycle
import Telemetry

/// Publishes `storage` (latest-value): filesystem capacity every telemetry interval, and on a
/// slower schedule the sizes of the configured directories and Docker's disk use. Directory walks run
/// on a background thread, one at a time, so a large media library never delays anything else.
final class StorageService: Service, Sendable {
    static let channel = "storage"

    struct Configuration: Sendable {
        var directories: [(name: String, path: String)]
        var filesystemInterval: Duration
        var scanInterval: Duration
    }

    let configuration: Configuration
    let docker: DockerClient
    let hub: Hub
    let coordination: ReplicaCoordination
    let logger: Logger
    private let state: NIOLockedValueBox<StorageSnapshot>
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    init(configuration: Configuration, docker: DockerClient, hub: Hub, coordination: ReplicaCoordination, logger: Logger) {
        self.coordination = coordination
        self.configuration = configuration
        self.docker = docker
        self.hub = hub
        self.logger = logger
        self.state = NIOLockedValueBox(StorageSnapshot(
            filesystems: [], directories: configuration.directories.map { .init(name: $0.name, path: $0.path) }, docker: nil,
            updatedAt: 0
        ))
    }

    var snapshot: StorageSnapshot { state.withLockedValue { $0 } }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.every(self.configuration.filesystemInterval) { await self.measureFilesystems() } }
            group.addTask { await self.every(self.configuration.scanInterval) { await self.scan() } }
            await group.waitForAll()
        }
    }

    private func every(_ interval: Duration, _ work: @Sendable () async -> Void) async {
        while !Task.isCancelledOrShuttingDown {
            await work()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    private func measureFilesystems() async {
        do {
            let filesystems = try Filesystems.measure(logger: logger)
            await update { $0.filesystems = filesystems }
        } catch {
            logger.warning("filesystems not measured", metadata: ["error": "\(error)"])
        }
    }

    /// One directory after another on a background thread, then the engine's disk use.
    private func scan() async {
        for (index, directory) in configuration.directories.enumerated() {
            if Task.isCancelledOrShuttingDown { return }
            let started = ContinuousClock.now
            let result = await Task.detached(priority: .background) { () -> Result<DirectorySize, TelemetryError> in
                Result { () throws(TelemetryError) -> DirectorySize in try DirectorySize.measure(directory.path) }
            }.value
            let elapsed = ContinuousClock.now - started
            await update { snapshot in
                var entry = snapshot.directories[index]
                switch result {
                case .success(let size):
                    entry.size = size
                    entry.error = nil
                case .failure(let error):
                    entry.error = "\(error)"
                }
                entry.scannedAt = Int64(Date().timeIntervalSince1970 * 1000)
                entry.scanMilliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                snapshot.directories[index] = entry
            }
        }
        do {
            let usage = try await docker.diskUsage()
            let docker = StorageSnapshot.Docker(
                imagesBytes: usage.imagesBytes, containersBytes: usage.containersBytes, volumesBytes: usage.volumesBytes,
                buildCacheBytes: usage.buildCacheBytes, danglingImages: usage.danglingImages, danglingImagesBytes: usage.danglingImagesBytes,
                volumes: usage.volumes.map { .init(name: $0.name, bytes: $0.size >= 0 ? $0.size : nil) },
                scannedAt: Int64(Date().timeIntervalSince1970 * 1000)
            )
            await update { $0.docker = docker }
        } catch {
            logger.debug("Docker disk use not measured", metadata: ["error": "\(error)"])
            await update { $0.docker = nil }
        }
    }

    private func update(_ change: @Sendable (inout StorageSnapshot) -> Void) async {
        let snapshot = state.withLockedValue { snapshot in
            change(&snapshot)
            snapshot.updatedAt = Int64(Date().timeIntervalSince1970 * 1000)
            return snapshot
        }
        guard coordination.isLeader else { return }
        do {
            try await hub.publish(try JSONParser.parse(Array(try encoder.encode(snapshot))), to: Self.channel, by: .server)
        } catch {
            logger.error("storage not published", metadata: ["error": "\(error)"])
        }
    }
}
