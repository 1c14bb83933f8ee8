import Alerts
import Foundation
import Redis
import Telemetry

/// Everything `nebula serve` can be told, already validated.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory: URL
    public var webDirectory: URL?
    public var telemetryInterval: Duration = .seconds(30)
    public var pingInterval: Duration = .seconds(25)
    public var maxQueueBytes = 1 << 20
    public var maxFrameBytes = 64 * 1024
    public var echoEndpoint = false
    /// `postgres://…` to share state between replicas; nil keeps an SQLite file in the data dir.
    public var databaseURL: String?
    /// `redis://…` switches the broker to Redis so that replicas share channels; nil keeps it in-process.
    public var redisURL: RedisURL?
    /// Names this process among replicas (its probe channel, /healthz); unique per process.
    public var replicaID = "\(Hostname.current())-\(getpid())"
    /// How often the Redis broker's self-publish probe runs, and when a missing one counts as stuck.
    public var redisProbeInterval: Duration = .seconds(1)
    /// `NEBULA_API_KEY`: the admin key for automation; nil means generate or load one.
    public var apiKey: String?
    /// The Docker (or Podman) Engine API: `unix:///var/run/docker.sock` unless `--docker-host` or `DOCKER_HOST` say otherwise.
    public var dockerHost = "unix:///var/run/docker.sock"
    /// Read running containers' usage from their cgroup files when the host's are visible (the
    /// fast path); false always asks the engine (`--container-stats engine`).
    public var containerStatsFromCgroups = true
    /// Directories whose size the storage page shows (`--storage-dir media=/srv/media`).
    public var storageDirectories: [(name: String, path: String)] = []
    /// Cache directories Jarvis's `clear_cache` may empty (`--cache-dir plex=/var/lib/plex/cache`).
    public var cacheDirectories: [(name: String, path: String)] = []
    /// Directories whose logs Jarvis's `rotate_log` may rotate (`--log-dir app=/var/log/app`).
    public var logDirectories: [(name: String, path: String)] = []
    /// How long an MCP tool call that needs approval waits for a person before it expires.
    public var mcpApprovalWait: Duration = .seconds(55)
    /// How often Jarvis looks for maintenance to propose (`--maintenance-interval`); nil: never.
    public var maintenanceInterval: Duration? = .seconds(6 * 3600)
    /// From what size maintenance is proposed.
    public var maintenanceThresholds = MaintenanceThresholds()
    /// How often directory sizes and Docker's disk use are measured.
    public var storageScanInterval: Duration = .seconds(3600)
    /// Alert rules (default: any filesystem over 80 %, unhealthy or restarting containers) and the
    /// targets their notifications go to.
    public var alertRules: [AlertRule] = AlertRule.defaults(duration: .seconds(300))
    public var notificationTargets: [NotificationTarget] = []
    /// Reverse proxies whose `X-Forwarded-For` names the real client (`--trusted-proxy`).
    public var trustedProxies: [IPRange] = []
    /// `NEBULA_SECRET_KEY`: seals secrets at rest; nil means `<data-dir>/secret.key`.
    public var secretKey: String?
    /// Event loop threads; one per CPU this process may run on.
    public var eventLoopThreads = ServerConfiguration.allowedCPUCount()

    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// CPUs in this process's affinity mask (`taskset`), which NIO's own count ignores: more loops
    /// than usable cores only adds context switches.
    public static func allowedCPUCount() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return ProcessInfo.processInfo.activeProcessorCount }
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        var count = 0
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2 { count += bounds[1] - bounds[0] + 1 } else if bounds.count == 1 { count += 1 }
        }
        return max(1, count)
    }

    /// The `web/` folder of the checkout this binary was built in, found by walking up from the
    /// executable; nil when there is none (then only the API is served).
    public static func defaultWebDirectory() -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("web")]
        if let executable = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<5 {
                candidates.append(directory.appendingPathComponent("web"))
                candidates.append(directory.appendingPathComponent("share/nebula/web"))
                directory.deleteLastPathComponent()
            }
        }
        return candidates.first { fm.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }
}
