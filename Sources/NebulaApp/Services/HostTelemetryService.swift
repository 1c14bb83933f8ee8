import Foundation
import Logging
import NIOConcurrencyHelpers
import Realtime
import ServiceLifecycle
import Telemetry

/// Samples the host every interval and publishes the snapshot on `telemetry.host`.
final class HostTelemetryService: Service, Sendable {
    struct Status: Sendable {
        var lastSample: ContinuousClock.Instant?
        var lastError: String?
        var publishError: String?
    }

    static let channel = "telemetry.host"

    let hub: Hub
    let coordination: ReplicaCoordination
    let interval: Duration
    let logger: Logger
    private let status = NIOLockedValueBox(Status())
    private let latestSnapshot = NIOLockedValueBox<(snapshot: HostSnapshot, at: Int64)?>(nil)

    /// The newest sample and when it was taken (Unix ms), for history.
    var latest: (snapshot: HostSnapshot, at: Int64)? { latestSnapshot.withLockedValue { $0 } }

    init(hub: Hub, coordination: ReplicaCoordination, interval: Duration, logger: Logger) {
        self.hub = hub
        self.coordination = coordination
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        var collector: HostCollector
        do {
            collector = try HostCollector()
        } catch {
            status.withLockedValue { $0.lastError = "\(error)" }
            logger.error("host telemetry unavailable", metadata: ["error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // The first sample goes out at once so a fresh dashboard has data; its rates cover the
        // short time since the collector was primed.
        try? await Task.sleep(for: .milliseconds(100))
        while !Task.isCancelledOrShuttingDown {
            await publishSample(from: &collector, encoder: encoder)
            // The wait ends early on shutdown, so stopping never waits out a long interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    private func publishSample(from collector: inout HostCollector, encoder: JSONEncoder) async {
        let data: JSONValue
        do {
            let snapshot = try collector.sample()
            latestSnapshot.withLockedValue { $0 = (snapshot, Int64(Date().timeIntervalSince1970 * 1000)) }
            data = try JSONParser.parse(Array(try encoder.encode(snapshot)))
            status.withLockedValue { $0 = Status(lastSample: .now, lastError: nil, publishError: $0.publishError) }
        } catch {
            status.withLockedValue { $0.lastError = "\(error)" }
            logger.warning("host telemetry sample failed", metadata: ["error": "\(error)"])
            return
        }
        // With replicas, one publishes for the cluster; the others keep sampling for /healthz.
        guard coordination.isLeader else { return }
        // A publication the broker refused (Redis away) is the broker's health, reported there;
        // sampling goes on and the next sample is published when it is back.
        do {
            try await hub.publish(data, to: Self.channel, by: .server)
            status.withLockedValue { $0.publishError = nil }
        } catch {
            status.withLockedValue { $0.publishError = "\(error)" }
            logger.warning("host telemetry not published", metadata: ["error": "\(error)"])
        }
    }

    /// Healthy while samples keep arriving (a sample may be one interval plus some slack late).
    func health() -> ComponentHealth {
        let status = status.withLockedValue { $0 }
        var details: [String: String] = [:]
        // Not ready until the first sample exists, so a load balancer only sends clients once
        // a dashboard would have something to show.
        var healthy = status.lastError == nil && status.lastSample != nil
        if status.lastSample == nil, status.lastError == nil { details["state"] = "starting" }
        if let last = status.lastSample {
            let age = ContinuousClock.now - last
            details["last_sample_age_seconds"] = String(format: "%.1f", Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18)
            if age > interval * 3 + .seconds(5) { healthy = false }
        }
        if let error = status.lastError { details["error"] = error }
        if let error = status.publishError { details["publish_error"] = error }
        return ComponentHealth(healthy: healthy, details: details)
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
