import Telemetry

/// When each container's restart count went up, so a crash loop is seen although the container is
/// `running` most of the time between two restarts (its `restarting` state lasts only the
/// engine's back-off delay, far shorter than any hold duration).
public struct RestartHistory: Sendable {
    /// How far back restarts count.
    public var window: Duration
    /// How many restarts within the window make a loop.
    public var threshold: Int
    private var counts: [String: Int] = [:]
    private var times: [String: [Int64]] = [:]

    public init(window: Duration = .seconds(600), threshold: Int = 3) {
        self.window = window
        self.threshold = max(1, threshold)
    }

    /// Takes the latest restart counts. A count that went down belongs to a recreated container
    /// of the same name: it starts afresh.
    public mutating func record(_ containers: [ContainerReport], now: Int64) {
        let horizon = now - Int64(window.components.seconds * 1000)
        var seen: Set<String> = []
        for c in containers {
            guard let count = c.restartCount else { continue }
            seen.insert(c.name)
            if let before = counts[c.name], count > before {
                times[c.name, default: []] += Array(repeating: now, count: min(count - before, threshold))
            } else if let before = counts[c.name], count < before {
                times[c.name] = nil
            }
            counts[c.name] = count
        }
        counts = counts.filter { seen.contains($0.key) }
        times = times.filter { seen.contains($0.key) }.mapValues { $0.filter { $0 > horizon } }.filter { !$0.value.isEmpty }
    }

    /// Restarts of `name` within the window.
    public func recent(_ name: String) -> Int { times[name]?.count ?? 0 }

    /// Restarting now, or restarted `threshold` times within the window.
    public func isLooping(_ container: ContainerReport) -> Bool {
        container.state == "restarting" || recent(container.name) >= threshold
    }
}
