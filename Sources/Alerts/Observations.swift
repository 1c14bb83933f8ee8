import Telemetry

/// What the rules see in the latest telemetry: one observation per rule and filesystem or container.
public enum Observations {
    public static func of(
        filesystems: [HostSnapshot.Filesystem], containers: [ContainerReport], rules: [AlertRule], restarts: RestartHistory = RestartHistory()
    ) -> [Observation] {
        var observations: [Observation] = []
        for rule in rules {
            switch rule.condition {
            case .filesystemUsedPercent(let limit):
                for fs in filesystems {
                    observations.append(Observation(
                        key: "\(rule.name):\(fs.mount)", rule: rule, subject: fs.mount, active: fs.usedPercent > limit, value: fs.usedPercent,
                        summary: "\(fs.mount) is \(format(fs.usedPercent)) % full (limit \(format(limit)) %)"
                    ))
                }
            case .containerUnhealthy:
                for c in containers {
                    observations.append(Observation(
                        key: "\(rule.name):\(c.name)", rule: rule, subject: c.name, active: c.health == "unhealthy", value: nil,
                        summary: c.health == "unhealthy" ? "container \(c.name) is unhealthy" : "container \(c.name) is \(c.health ?? c.state)"
                    ))
                }
            case .containerRestarting:
                let minutes = format(Double(restarts.window.components.seconds) / 60)
                for c in containers {
                    let looping = restarts.isLooping(c)
                    observations.append(Observation(
                        key: "\(rule.name):\(c.name)", rule: rule, subject: c.name, active: looping, value: Double(restarts.recent(c.name)),
                        summary: looping
                            ? "container \(c.name) keeps restarting (\(restarts.recent(c.name)) restarts in \(minutes) min, \(c.restartCount ?? 0) in all)"
                            : "container \(c.name) is \(c.state)"
                    ))
                }
            case .containerCPUPercent(let limit):
                for c in containers {
                    let value = c.usage.cpuPercent ?? 0
                    observations.append(Observation(
                        key: "\(rule.name):\(c.name)", rule: rule, subject: c.name, active: value > limit, value: value,
                        summary: "container \(c.name) uses \(format(value)) % CPU (limit \(format(limit)) %)"
                    ))
                }
            case .containerMemoryPercent(let limit):
                for c in containers {
                    let value = c.usage.memoryPercent ?? 0
                    observations.append(Observation(
                        key: "\(rule.name):\(c.name)", rule: rule, subject: c.name, active: value > limit, value: value,
                        summary: "container \(c.name) uses \(format(value)) % of its memory limit (limit \(format(limit)) %)"
                    ))
                }
            }
        }
        return observations
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
