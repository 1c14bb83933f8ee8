/// Turns `NEBULA_<OPTION>` environment variables into command-line options placed before the
/// user's own, so that explicit flags win (the parser keeps the last value given).
enum EnvironmentDefaults {
    static let options = ["host", "port", "data-dir", "database-url", "redis-url", "replica-id", "redis-probe-interval", "web-dir", "telemetry-interval", "ping-interval", "max-queue-bytes", "max-message-bytes", "threads", "log-level", "trusted-proxy", "docker-host", "container-stats", "storage-dir", "cache-dir", "log-dir", "mcp-approval-wait", "maintenance-interval", "maintenance-build-cache", "maintenance-dangling-images", "maintenance-log-size", "storage-interval", "notify", "alert-for", "alert-filesystem-percent", "alert-container-cpu", "alert-container-memory"]
    static let flags = ["echo-endpoint"]

    static func arguments(from environment: [String: String], options: [String] = options, flags: [String] = flags) -> [String] {
        var arguments: [String] = []
        for option in options {
            if let value = environment[variableName(option)], !value.isEmpty {
                arguments += ["--\(option)", value]
            }
        }
        for flag in flags {
            if let value = environment[variableName(flag)], ["1", "true", "yes", "on"].contains(value.lowercased()) {
                arguments.append("--\(flag)")
            }
        }
        return arguments
    }

    static func variableName(_ option: String) -> String {
        "NEBULA_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
