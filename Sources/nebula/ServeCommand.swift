import ArgumentParser
import Foundation
import Logging
import NebulaApp
import Docker
import Alerts
import Redis

/// `nebula serve`: runs the server. Every option can also come from `NEBULA_<OPTION>` (see
/// `EnvironmentDefaults`); the command line wins.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Nebula Command server (HTTP, WebSocket, dashboard).",
        discussion: "Each option can also be set with NEBULA_<OPTION>, e.g. NEBULA_PORT=9000. NEBULA_API_KEY sets the admin key; NEBULA_SECRET_KEY the key sealing secrets at rest."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "TCP port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Directory for server state (the admin key hash, later the database).")
    var dataDir = "data"

    @Option(help: "PostgreSQL URL (postgres://user:password@host:port/database) to share state between replicas; default: SQLite in --data-dir.")
    var databaseURL: String?

    @Option(help: "Redis URL (redis://[user:password@]host:port/db, rediss:// for TLS with ?ca=/path.pem if needed) to share channels between replicas; default: an in-process broker.")
    var redisUrl: String?

    @Option(help: "This replica's name among several (default: hostname-pid).")
    var replicaId: String?

    @Option(help: "How often the Redis broker checks its subscription with a self-publish probe; three missed make it unhealthy.")
    var redisProbeInterval = DurationArgument(.seconds(1))

    @Option(help: "Directory with the dashboard's static files (default: the checkout's web/).")
    var webDir: String?

    @Option(help: "How often host telemetry is sampled, e.g. 30s, 500ms, 2m.")
    var telemetryInterval = DurationArgument(.seconds(30))

    @Option(help: "How often the server pings each WebSocket; two silent intervals close it.")
    var pingInterval = DurationArgument(.seconds(25))

    @Option(help: "Outbound queue limit per connection, in bytes.")
    var maxQueueBytes = 1 << 20

    @Option(help: "Largest WebSocket frame or message accepted, in bytes; larger ones close the socket with 1009.")
    var maxMessageBytes = 64 * 1024

    @Flag(help: "Serve GET /ws/echo, an echo WebSocket with the same configuration as /ws (for conformance tests).")
    var echoEndpoint = false

    @Option(help: "Event loop threads (default: one per CPU this process may use).")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "A directory whose size the storage page shows, as name=/path (repeat, or separate with commas), e.g. media=/srv/media.")
    var storageDir: [String] = []

    @Option(help: "A cache directory Jarvis may empty once an operator approves (clear_cache), as name=/path (repeat, or separate with commas), e.g. plex=/var/lib/plex/cache.")
    var cacheDir: [String] = []

    @Option(help: "A directory whose log files Jarvis may rotate once an operator approves (rotate_log), as name=/path (repeat, or separate with commas).")
    var logDir: [String] = []

    @Option(help: "How often Jarvis looks for maintenance to propose (prune Docker's build cache or dangling images, restart an unhealthy container, rotate a large log), e.g. 6h; off turns it off.")
    var maintenanceInterval = "6h"

    @Option(help: "Docker's build cache from which Jarvis proposes pruning it, e.g. 1GiB, 500MB (powers of 1024).")
    var maintenanceBuildCache = ByteSizeArgument(bytes: 1 << 30)

    @Option(help: "Space taken by dangling (untagged) images from which Jarvis proposes pruning them, e.g. 512MiB.")
    var maintenanceDanglingImages = ByteSizeArgument(bytes: 512 << 20)

    @Option(help: "Size of a log file in a --log-dir from which Jarvis proposes rotating it, e.g. 100MiB.")
    var maintenanceLogSize = ByteSizeArgument(bytes: 100 << 20)

    @Option(help: "How long an MCP tool call that needs approval waits for a person before it expires, e.g. 55s (keep it under the agent's request timeout).")
    var mcpApprovalWait = DurationArgument(.seconds(55))

    @Option(help: "How often directory sizes and Docker's disk use are measured, e.g. 1h, 30m.")
    var storageInterval = DurationArgument(.seconds(3600))

    @Option(help: "Send alerts to kind=url: discord=https://discord.com/api/webhooks/…, ntfy=https://ntfy.sh/topic, webhook=https://…, email=smtp://user:password@host:587?to=me@example.org (repeat, or separate with commas).")
    var notify: [String] = []

    @Option(help: "How long a condition must hold before its alert fires (and stay away before it resolves).")
    var alertFor = DurationArgument(.seconds(300))

    @Option(help: "Alert when a filesystem is fuller than this many percent.")
    var alertFilesystemPercent: Double = 80

    @Option(help: "Also alert when a container uses more CPU than this many percent (100 = one core).")
    var alertContainerCpu: Double?

    @Option(help: "Also alert when a container uses more than this many percent of its memory limit.")
    var alertContainerMemory: Double?

    @Option(help: "Docker or Podman Engine API: unix:///path/to/docker.sock or tcp://host:port (default: $DOCKER_HOST, else unix:///var/run/docker.sock).")
    var dockerHost: String?

    @Option(help: "Where container usage is read: auto (the containers' cgroup files when this process can see the engine host's /proc and /sys, the Engine API otherwise) or engine (always the Engine API).")
    var containerStats = "auto"

    @Option(help: "Reverse proxies whose X-Forwarded-For names the client, comma-separated addresses or CIDR blocks (e.g. 127.0.0.1,10.0.0.0/8).")
    var trustedProxy: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
        guard host.isEmpty == false else { throw ValidationError("--host must not be empty") }
        guard maxQueueBytes >= 4096 else { throw ValidationError("--max-queue-bytes must be at least 4096") }
        guard (1024...(64 << 20)).contains(maxMessageBytes) else { throw ValidationError("--max-message-bytes must be between 1024 and 67108864") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical") }
        if let databaseURL, !(databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://")) {
            throw ValidationError("--database-url must start with postgres:// or postgresql://")
        }
        if let redisUrl, RedisURL(redisUrl) == nil {
            throw ValidationError("--redis-url must be redis://[user:password@]host[:port][/db] or rediss://…, got '\(redisUrl)'")
        }
        if let replicaId, replicaId.isEmpty || replicaId.count > 64 || !replicaId.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            throw ValidationError("--replica-id must be 1-64 letters, digits, '-', '_' or '.'")
        }
        guard redisProbeInterval.duration >= .milliseconds(50) else { throw ValidationError("--redis-probe-interval must be at least 50ms") }
        if DockerEndpoint(DockerEndpoint.resolve(flag: dockerHost, environment: ProcessInfo.processInfo.environment)) == nil {
            throw ValidationError("--docker-host (or DOCKER_HOST) must be unix:///path/to/docker.sock or tcp://host:port")
        }
        if storageDirectories == nil {
            throw ValidationError("--storage-dir must be name=/absolute/path, e.g. media=/srv/media")
        }
        if maintenanceInterval != "off", DurationArgument(argument: maintenanceInterval) == nil {
            throw ValidationError("--maintenance-interval must be a duration such as 6h or 30m, or off")
        }
        if Self.namedPaths(cacheDir) == nil {
            throw ValidationError("--cache-dir must be name=/absolute/path, e.g. plex=/var/lib/plex/cache")
        }
        if Self.namedPaths(logDir) == nil {
            throw ValidationError("--log-dir must be name=/absolute/path, e.g. app=/var/log/app")
        }
        if notificationTargets == nil {
            throw ValidationError("--notify must be discord=URL, ntfy=URL or webhook=URL with an http(s) URL, or email=smtp(s)://[user:password@]host[:port]?to=address")
        }
        guard ["auto", "engine"].contains(containerStats) else { throw ValidationError("--container-stats must be auto or engine, got '\(containerStats)'") }
        guard (0...100).contains(alertFilesystemPercent) else { throw ValidationError("--alert-filesystem-percent must be 0-100") }
        if let trustedProxy, trustedProxies(trustedProxy) == nil {
            throw ValidationError("--trusted-proxy '\(trustedProxy)' must be comma-separated IP addresses or CIDR blocks")
        }
        if let webDir, !FileManager.default.fileExists(atPath: webDir) {
            throw ValidationError("--web-dir '\(webDir)' does not exist")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "nebula")
        var configuration = ServerConfiguration(dataDirectory: URL(fileURLWithPath: dataDir))
        configuration.host = host
        configuration.databaseURL = databaseURL
        configuration.redisURL = redisUrl.flatMap(RedisURL.init)
        if let replicaId { configuration.replicaID = replicaId }
        configuration.redisProbeInterval = redisProbeInterval.duration
        configuration.port = port
        configuration.webDirectory = webDir.map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultWebDirectory()
        configuration.telemetryInterval = telemetryInterval.duration
        configuration.pingInterval = pingInterval.duration
        configuration.maxQueueBytes = maxQueueBytes
        configuration.maxFrameBytes = maxMessageBytes
        configuration.echoEndpoint = echoEndpoint
        if let threads { configuration.eventLoopThreads = threads }
        configuration.trustedProxies = trustedProxy.flatMap(trustedProxies) ?? []
        configuration.storageDirectories = storageDirectories ?? []
        configuration.cacheDirectories = Self.namedPaths(cacheDir) ?? []
        configuration.logDirectories = Self.namedPaths(logDir) ?? []
        configuration.mcpApprovalWait = mcpApprovalWait.duration
        configuration.maintenanceInterval = maintenanceInterval == "off" ? nil : DurationArgument(argument: maintenanceInterval)?.duration
        configuration.maintenanceThresholds.buildCacheBytes = maintenanceBuildCache.bytes
        configuration.maintenanceThresholds.danglingImagesBytes = maintenanceDanglingImages.bytes
        configuration.maintenanceThresholds.logBytes = maintenanceLogSize.bytes
        configuration.notificationTargets = notificationTargets ?? []
        configuration.alertRules = alertRules
        configuration.storageScanInterval = storageInterval.duration
        configuration.containerStatsFromCgroups = containerStats == "auto"
        configuration.dockerHost = DockerEndpoint.resolve(flag: dockerHost, environment: ProcessInfo.processInfo.environment)
        configuration.apiKey = ProcessInfo.processInfo.environment["NEBULA_API_KEY"]
        configuration.secretKey = ProcessInfo.processInfo.environment["NEBULA_SECRET_KEY"]
        if configuration.webDirectory == nil {
            logger.warning("no web/ directory found: serving the API only (pass --web-dir)")
        }
        try await NebulaServer.run(configuration, logger: logger) { line in
            // Unbuffered, so a supervisor or test reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    private func trustedProxies(_ text: String) -> [IPRange]? {
        let ranges = text.split(separator: ",").map { IPRange($0.trimmingCharacters(in: .whitespaces)) }
        return ranges.contains(where: { $0 == nil }) ? nil : ranges.compactMap { $0 }
    }

    private var storageDirectories: [(name: String, path: String)]? { Self.namedPaths(storageDir) }

    /// `name=/path` entries, from repeated flags or comma-separated lists; nil when one is malformed.
    static func namedPaths(_ entries: [String]) -> [(name: String, path: String)]? {
        var result: [(name: String, path: String)] = []
        for entry in entries.flatMap({ $0.split(separator: ",") }) {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("/") else { return nil }
            result.append((parts[0], parts[1]))
        }
        return result
    }

    private var notificationTargets: [NotificationTarget]? {
        var targets: [NotificationTarget] = []
        for value in notify {
            guard let listed = NotificationTarget.list(value) else { return nil }
            targets += listed
        }
        return targets
    }

    private var alertRules: [AlertRule] {
        let hold = alertFor.duration
        var rules = AlertRule.defaults(duration: hold).map { rule in
            var rule = rule
            if case .filesystemUsedPercent = rule.condition { rule.condition = .filesystemUsedPercent(above: alertFilesystemPercent) }
            return rule
        }
        if let cpu = alertContainerCpu { rules.append(AlertRule(name: "container_cpu", condition: .containerCPUPercent(above: cpu), duration: hold)) }
        if let memory = alertContainerMemory {
            rules.append(AlertRule(name: "container_memory", condition: .containerMemoryPercent(above: memory), duration: hold))
        }
        return rules
    }
}
