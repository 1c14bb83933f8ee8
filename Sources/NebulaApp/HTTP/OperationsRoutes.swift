import Foundation
import Hummingbird
import NIOCore
import Prometheus
import Realtime
import Store

/// `/healthz` for proxies and people, `/metrics` for Prometheus. Neither needs a key: they carry
/// counts and states, never data.
struct OperationsRoutes {
    let hub: Hub
    let telemetry: HostTelemetryService
    let containers: ContainerTelemetryService
    let connections: ConnectionRegistry
    let database: any Database
    let prometheus: PrometheusCollectorRegistry
    let startedAt: ContinuousClock.Instant
    let version: String

    func register(on router: Router<NebulaRequestContext>) {
        router.get("healthz") { _, _ in await health() }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: prometheus.emitToBuffer()))
            )
        }
    }

    private func health() async -> Response {
        let broker = await hub.broker.health()
        let telemetryHealth = telemetry.health()
        let draining = connections.isDraining
        let healthy = broker.healthy && telemetryHealth.healthy && !draining
        let uptime = ContinuousClock.now - startedAt
        var w = JSONWriter()
        w.raw("{\"status\":")
        w.string(healthy ? "ok" : (draining ? "shutting_down" : "degraded"))
        w.raw(",\"version\":")
        w.string(version)
        w.raw(",\"uptime_seconds\":")
        w.raw(Array(String(format: "%.3f", Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18).utf8))
        w.raw(",\"components\":{\"broker\":")
        write(broker, into: &w)
        w.raw(",\"telemetry\":")
        write(telemetryHealth, into: &w)
        // Reported, but not part of readiness: see ContainerTelemetryService.health().
        let docker = containers.health()
        w.raw(",\"docker\":{\"status\":")
        w.string(docker.status)
        for (key, value) in docker.details.sorted(by: { $0.key < $1.key }) {
            w.raw(",")
            w.string(key)
            w.raw(":")
            if key == "containers", let count = Int(value) { w.integer(count) } else { w.string(value) }
        }
        w.raw("}")
        w.raw(",\"store\":{\"status\":\"ok\",\"kind\":")
        w.string(database.dialect.rawValue)
        w.raw("}")
        w.raw(",\"websocket\":{\"status\":")
        w.string(draining ? "draining" : "ok")
        w.raw(",\"connections\":")
        w.integer(connections.count)
        w.raw("}}}")
        return .json(w.bytes, status: healthy ? .ok : .serviceUnavailable)
    }

    private func write(_ health: ComponentHealth, into w: inout JSONWriter) {
        w.raw("{\"status\":")
        w.string(health.healthy ? "ok" : "failing")
        for (key, value) in health.details.sorted(by: { $0.key < $1.key }) {
            w.raw(",")
            w.string(key)
            w.raw(":")
            if let number = Double(value), key.hasSuffix("_seconds") { w.raw(Array(String(number).utf8)) } else { w.string(value) }
        }
        w.raw("}")
    }
}
