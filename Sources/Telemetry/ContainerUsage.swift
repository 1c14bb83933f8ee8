import Docker

/// A container's resource use over one interval, as the dashboard shows it. Rates and CPU need two
/// samples, so they are nil the first time a container is seen.
public struct ContainerUsage: Sendable, Equatable, Encodable {
    public var cpuPercent: Double?
    /// Usage minus the reclaimable page cache, as `docker stats` shows it.
    public var memoryBytes: UInt64?
    public var memoryLimitBytes: UInt64?
    public var memoryPercent: Double?
    public var networkRxBytesPerSecond: Double?
    public var networkTxBytesPerSecond: Double?
    public var blockReadBytesPerSecond: Double?
    public var blockWriteBytesPerSecond: Double?
    public var pids: Int?
    public var source: ContainerStatsSource?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case cpuPercent = "cpu_percent", memoryBytes = "memory_bytes", memoryLimitBytes = "memory_limit_bytes"
        case memoryPercent = "memory_percent", networkRxBytesPerSecond = "network_rx_bytes_per_second"
        case networkTxBytesPerSecond = "network_tx_bytes_per_second", blockReadBytesPerSecond = "block_read_bytes_per_second"
        case blockWriteBytesPerSecond = "block_write_bytes_per_second", pids, source = "stats_source"
    }

    // Encodes nil as null: a stopped container still has every documented key.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cpuPercent, forKey: .cpuPercent)
        try c.encode(memoryBytes, forKey: .memoryBytes)
        try c.encode(memoryLimitBytes, forKey: .memoryLimitBytes)
        try c.encode(memoryPercent, forKey: .memoryPercent)
        try c.encode(networkRxBytesPerSecond, forKey: .networkRxBytesPerSecond)
        try c.encode(networkTxBytesPerSecond, forKey: .networkTxBytesPerSecond)
        try c.encode(blockReadBytesPerSecond, forKey: .blockReadBytesPerSecond)
        try c.encode(blockWriteBytesPerSecond, forKey: .blockWriteBytesPerSecond)
        try c.encode(pids, forKey: .pids)
        try c.encode(source?.rawValue, forKey: .source)
    }
}

/// The cumulative counters of one sample, kept until the next so CPU and rates come from our own
/// previous reading: `one-shot` samples carry no useful `precpu_stats`, and Podman zeroes them.
public struct ContainerCounters: Sendable, Equatable {
    public var cpuTotal: UInt64?
    public var systemTotal: UInt64?
    public var onlineCPUs: Int?
    public var rxBytes: UInt64?
    public var txBytes: UInt64?
    public var blockRead: UInt64?
    public var blockWrite: UInt64?
    /// When we took the sample, in seconds on a monotonic clock.
    public var takenAt: Double

    public init(_ sample: ContainerStatsSample, takenAt: Double) {
        cpuTotal = sample.cpu?.usage?.totalUsage
        systemTotal = sample.cpu?.systemUsage
        onlineCPUs = sample.cpu?.onlineCPUs.flatMap { $0 > 0 ? $0 : nil } ?? sample.cpu?.usage?.perCPUUsage.flatMap { $0.isEmpty ? nil : $0.count }
        if let networks = sample.networks, !networks.isEmpty {
            rxBytes = networks.values.reduce(0) { $0 &+ $1.rxBytes }
            txBytes = networks.values.reduce(0) { $0 &+ $1.txBytes }
        }
        if let entries = sample.blockIO?.serviceBytes {
            blockRead = entries.filter { $0.op.lowercased() == "read" }.reduce(0) { $0 &+ $1.value }
            blockWrite = entries.filter { $0.op.lowercased() == "write" }.reduce(0) { $0 &+ $1.value }
        }
        self.takenAt = takenAt
    }
}

extension ContainerUsage {
    /// Usage from this sample and, when there is one, the previous sample's counters.
    public init(_ sample: ContainerStatsSample, counters: ContainerCounters, previous: ContainerCounters?) {
        self.init()
        pids = sample.pids?.current
        if let memory = sample.memory, let usage = memory.usage {
            // cgroup v1 names the page cache total_inactive_file, v2 inactive_file.
            let cache = memory.stats?["total_inactive_file"] ?? memory.stats?["inactive_file"] ?? 0
            let used = usage > cache ? usage - cache : 0
            memoryBytes = used
            if let limit = memory.limit, limit > 0 {
                memoryLimitBytes = limit
                memoryPercent = Double(used) / Double(limit) * 100
            }
        }
        guard let previous else { return }
        // docker CLI's formula: Δcontainer / Δsystem × CPUs × 100.
        if let total = counters.cpuTotal, let before = previous.cpuTotal, let system = counters.systemTotal,
            let systemBefore = previous.systemTotal, system > systemBefore, total >= before
        {
            cpuPercent = Double(total - before) / Double(system - systemBefore) * Double(counters.onlineCPUs ?? 1) * 100
        }
        let elapsed = counters.takenAt - previous.takenAt
        guard elapsed > 0 else { return }
        let rate = { (now: UInt64?, before: UInt64?) -> Double? in
            guard let now, let before, now >= before else { return nil }
            return Double(now - before) / elapsed
        }
        networkRxBytesPerSecond = rate(counters.rxBytes, previous.rxBytes)
        networkTxBytesPerSecond = rate(counters.txBytes, previous.txBytes)
        blockReadBytesPerSecond = rate(counters.blockRead, previous.blockRead)
        blockWriteBytesPerSecond = rate(counters.blockWrite, previous.blockWrite)
    }
}
