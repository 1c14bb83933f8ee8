import Jarvis
import Realtime
import Telemetry

/// `container_list`: every container with its state, health, restarts and resource use.
struct ContainerListTool: JarvisTool {
    let containers: ContainerTelemetryService

    let name = "container_list"
    let description = """
        The Docker containers on the host: state, health, restart count, exit code, CPU and memory use. \
        Optionally only those whose name contains a text.
        """
    let tier = ToolTier.diagnose
    var parameters: JSONValue { ToolSchema.object([("name", ToolSchema.string("only containers whose name contains this (optional)"))]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let filter = arguments["name"]?.stringValue ?? ""
        guard let snapshot = containers.snapshot else {
            throw ToolError(.failed, "no container data yet; the first sample is on its way")
        }
        guard snapshot.engine.status == "ok" else {
            throw ToolError(.failed, "the Docker engine is \(snapshot.engine.status): \(snapshot.engine.error ?? "no detail")")
        }
        let listed = snapshot.containers.filter { filter.isEmpty || $0.name.localizedStandardContains(filter) }
        return .object([
            ("engine_version", .optional(snapshot.engine.version)),
            ("count", .number(listed.count)),
            ("containers", .array(listed.map(Self.container))),
        ])
    }

    static func container(_ report: ContainerReport) -> JSONValue {
        .object([
            ("name", .string(report.name)), ("id", .string(String(report.id.prefix(12)))), ("image", .string(report.image)),
            ("state", .string(report.state)), ("status", .string(report.status)), ("health", .optional(report.health)),
            ("restart_count", .optional(report.restartCount)), ("exit_code", .optional(report.exitCode)),
            ("started_at", .optional(report.startedAt)),
            ("cpu_percent", report.usage.cpuPercent.map { .number($0) } ?? .null),
            ("memory_bytes", .optional(report.usage.memoryBytes)), ("memory_limit_bytes", .optional(report.usage.memoryLimitBytes)),
        ])
    }
}
