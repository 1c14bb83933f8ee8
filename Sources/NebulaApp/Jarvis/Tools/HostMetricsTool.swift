import Jarvis
import Realtime
import Telemetry

/// `host_metrics`: the host's latest telemetry sample — CPU, load, memory, swap, filesystems.
struct HostMetricsTool: JarvisTool {
    let telemetry: HostTelemetryService

    let name = "host_metrics"
    let description = "The host's current CPU use, load averages, memory, swap and filesystem usage (the latest telemetry sample)."
    let tier = ToolTier.diagnose
    var parameters: JSONValue { ToolSchema.object([]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        guard let (host, at) = telemetry.latest else {
            throw ToolError(.failed, "no host sample yet; the first one is taken within one telemetry interval of the server starting")
        }
        return .object([
            ("hostname", .string(host.hostname)),
            ("sampled_at_ms", .number(at)),
            ("uptime_hours", .number(host.uptimeSeconds / 3600)),
            ("cpu", .object([("percent", .number(host.cpu.totalPercent)), ("cores", .number(host.cpu.cores))])),
            ("load", .object([("one", .number(host.load.one, places: 2)), ("five", .number(host.load.five, places: 2)), ("fifteen", .number(host.load.fifteen, places: 2))])),
            ("memory", .object([
                ("total_bytes", .number(host.memory.totalBytes)), ("used_bytes", .number(host.memory.usedBytes)),
                ("available_bytes", .number(host.memory.availableBytes)), ("used_percent", .number(host.memory.usedPercent)),
            ])),
            ("swap", .object([("total_bytes", .number(host.swap.totalBytes)), ("used_percent", .number(host.swap.usedPercent))])),
            ("filesystems", .array(host.filesystems.map(Self.filesystem))),
        ])
    }

    static func filesystem(_ filesystem: HostSnapshot.Filesystem) -> JSONValue {
        .object([
            ("mount", .string(filesystem.mount)), ("type", .string(filesystem.fsType)), ("total_bytes", .number(filesystem.totalBytes)),
            ("available_bytes", .number(filesystem.availableBytes)), ("used_percent", .number(filesystem.usedPercent)),
        ])
    }
}
