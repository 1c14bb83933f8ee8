import Foundation
import Logging

/// Samples host-wide CPU, memory, network, disk and filesystem figures from /proc and /sys.
///
/// Keeps the previous cumulative counters so every rate covers the real time
/// between two samples. Own it from a single task and call `sample()` periodically.
public struct HostCollector: TelemetryCollector, Sendable {
    /// Cumulative counters and the monotonic instant they were read at.
    private struct Counters: Sendable {
        var cpu: ProcStat
        var interfaces: [InterfaceCounters]
        var disks: [DiskCounters]
        var instant: ContinuousClock.Instant
    }

    private let procRoot: String
    private let mountsPath: String
    private let deviceFilter: BlockDeviceFilter
    private let now: @Sendable () -> ContinuousClock.Instant
    private let wallClock: @Sendable () -> Date
    private let logger: Logger
    private var previous: Counters

    /// Creates a collector and takes a priming reading, so the first `sample()` already has rates.
    ///
    /// - Parameters:
    ///   - procRoot: Where procfs is mounted, e.g. a host's /proc bind-mounted into a container.
    ///   - sysRoot: Where sysfs is mounted; used to tell whole disks from partitions.
    ///   - mountsPath: Mount table to list filesystems from; defaults to `<procRoot>/self/mounts`.
    ///   - now: Monotonic clock used to measure the interval between samples.
    ///   - wallClock: Clock for the snapshot timestamp.
    ///   - logger: Receives notes about filesystems that could not be measured.
    public init(
        procRoot: String = "/proc",
        sysRoot: String = "/sys",
        mountsPath: String? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "nebula.telemetry.host")
    ) throws(TelemetryError) {
        self.procRoot = procRoot
        self.mountsPath = mountsPath ?? "\(procRoot)/self/mounts"
        self.deviceFilter = BlockDeviceFilter(sysRoot: sysRoot)
        self.now = now
        self.wallClock = wallClock
        self.logger = logger
        self.previous = try Self.readCounters(procRoot: procRoot, now: now)
    }

    /// Reads the host's current state, computing rates over the time since the previous sample.
    public mutating func sample() throws(TelemetryError) -> HostSnapshot {
        let current = try Self.readCounters(procRoot: procRoot, now: now)
        let memInfo = try MemInfo(parsing: read("meminfo"), source: path("meminfo"))
        let load = try LoadAvg.parse(read("loadavg"), source: path("loadavg"))
        let uptime = try Uptime.parse(read("uptime"), source: path("uptime"))
        let filesystems = try readFilesystems()

        let elapsed = previous.instant.duration(to: current.instant)
        let snapshot = HostSnapshot(
            timestampMs: Int64((wallClock().timeIntervalSince1970 * 1000).rounded()),
            hostname: Hostname.current(),
            uptimeSeconds: uptime,
            cpu: cpuUsage(from: previous.cpu, to: current.cpu),
            load: load,
            memory: Self.memory(memInfo),
            swap: Self.swap(memInfo),
            network: networkRates(from: previous.interfaces, to: current.interfaces, over: elapsed),
            disks: diskRates(from: previous.disks, to: current.disks, over: elapsed),
            filesystems: filesystems
        )
        // Only advance the baseline once every file was read, so a failed
        // sample does not leave half-updated counters behind.
        previous = current
        return snapshot
    }

    // MARK: - Reading

    private func path(_ name: String) -> String { "\(procRoot)/\(name)" }

    private func read(_ name: String) throws(TelemetryError) -> String {
        try ProcFile.contents(of: path(name))
    }

    private static func readCounters(
        procRoot: String, now: () -> ContinuousClock.Instant
    ) throws(TelemetryError) -> Counters {
        let statPath = "\(procRoot)/stat"
        let netPath = "\(procRoot)/net/dev"
        let diskPath = "\(procRoot)/diskstats"
        let cpu = try ProcStat(parsing: ProcFile.contents(of: statPath), source: statPath)
        let interfaces = try NetDev.parse(ProcFile.contents(of: netPath), source: netPath)
        let disks = try DiskStats.parse(ProcFile.contents(of: diskPath), source: diskPath)
        return Counters(cpu: cpu, interfaces: interfaces, disks: disks, instant: now())
    }

    private func readFilesystems() throws(TelemetryError) -> [HostSnapshot.Filesystem] {
        try Filesystems.measure(mountsPath: mountsPath, logger: logger)
    }

    // MARK: - Derived figures

    private func cpuUsage(from old: ProcStat, to new: ProcStat) -> HostSnapshot.CPU {
        // A core that just came online is measured from zero, i.e. averaged since boot.
        let perCore = new.cores.keys.sorted().map { core in
            new.cores[core, default: .zero].busyPercent(since: old.cores[core] ?? .zero)
        }
        return HostSnapshot.CPU(
            totalPercent: new.aggregate.busyPercent(since: old.aggregate),
            perCorePercent: perCore,
            cores: new.cores.count
        )
    }

    private static func memory(_ info: MemInfo) -> HostSnapshot.Memory {
        let used = info.total.subtractingClamped(info.available)
        return HostSnapshot.Memory(
            totalBytes: info.total, availableBytes: info.available, usedBytes: used,
            freeBytes: info.free, buffersBytes: info.buffers, cachedBytes: info.cached,
            usedPercent: Percent.of(used, in: info.total)
        )
    }

    private static func swap(_ info: MemInfo) -> HostSnapshot.Swap {
        let used = info.swapTotal.subtractingClamped(info.swapFree)
        return HostSnapshot.Swap(
            totalBytes: info.swapTotal, usedBytes: used, freeBytes: info.swapFree,
            usedPercent: Percent.of(used, in: info.swapTotal)
        )
    }

    private func networkRates(
        from old: [InterfaceCounters], to new: [InterfaceCounters], over elapsed: Duration
    ) -> [HostSnapshot.NetworkInterface] {
        let baseline = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return new.map { counters in
            // An interface created since the last sample has counters spanning an
            // unknown period, so it reports 0 until it has a baseline.
            let before = baseline[counters.name] ?? counters
            return HostSnapshot.NetworkInterface(
                interface: counters.name,
                rxBytesPerSec: Rate.perSecond(from: before.rxBytes, to: counters.rxBytes, over: elapsed),
                txBytesPerSec: Rate.perSecond(from: before.txBytes, to: counters.txBytes, over: elapsed),
                rxBytesTotal: counters.rxBytes,
                txBytesTotal: counters.txBytes
            )
        }
    }

    private func diskRates(
        from old: [DiskCounters], to new: [DiskCounters], over elapsed: Duration
    ) -> [HostSnapshot.Disk] {
        let baseline = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return new.filter { deviceFilter.includes($0.name) }.map { counters in
            // Same reasoning as for interfaces: a hot-plugged disk starts at 0.
            let before = baseline[counters.name] ?? counters
            return HostSnapshot.Disk(
                device: counters.name,
                readBytesPerSec: Rate.perSecond(from: before.readBytes, to: counters.readBytes, over: elapsed),
                writeBytesPerSec: Rate.perSecond(from: before.writeBytes, to: counters.writeBytes, over: elapsed),
                readBytesTotal: counters.readBytes,
                writeBytesTotal: counters.writeBytes
            )
        }
    }
}
