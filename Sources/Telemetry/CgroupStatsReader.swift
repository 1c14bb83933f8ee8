import Docker

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a running container's counters straight from its cgroup files and its network
/// namespace's /proc/PID/net/dev: the fast path that needs no call to the engine. It yields the
/// same numbers the engine's stats endpoint computes from the same files, in the same shape, so
/// either source can follow the other from one interval to the next.
///
/// Works when Nebula sees the engine host's /proc and /sys (it runs on the host, or the container
/// shares the host PID namespace); otherwise reading fails and the caller asks the engine.
public struct CgroupStatsReader: Sendable {
    /// Prefixed to every absolute path, so tests can stand a directory tree in for the host.
    let root: String
    let mounts: CgroupMounts
    let ticksPerSecond: UInt64

    /// Reads where the cgroup hierarchies are mounted; throws when the mount table is unreadable.
    public init(root: String = "") throws(TelemetryError) {
        self.root = root
        let mountinfo = "\(root)/proc/self/mountinfo"
        mounts = try CgroupMounts(parsing: ProcFile.contents(of: mountinfo), source: mountinfo).relocated(under: root)
        ticksPerSecond = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
    }

    /// One sample of the container whose first process is `pid`.
    public func sample(pid: Int, containerID: String) throws(TelemetryError) -> ContainerStatsSample {
        guard pid > 0 else { throw .missingField(file: "\(root)/proc", field: "a process of container \(containerID.prefix(12))") }
        let membership = "\(root)/proc/\(pid)/cgroup"
        let cgroup = try ContainerCgroup(
            membership: ProcFile.contents(of: membership), mounts: mounts, containerID: containerID, source: membership
        )
        let statPath = "\(root)/proc/stat"
        let stat = try ProcStat(parsing: ProcFile.contents(of: statPath), source: statPath)
        let meminfoPath = "\(root)/proc/meminfo"
        let hostMemory = try MemInfo(parsing: ProcFile.contents(of: meminfoPath), source: meminfoPath).total

        let cpuTotal: UInt64
        let memory: ContainerStatsSample.Memory
        let blockIO: ContainerStatsSample.BlockIO?
        let pidsPath: String?
        switch cgroup {
        case .v1(let cpuacct, let memoryDir, let blkio, let pids):
            cpuTotal = try number("\(cpuacct)/cpuacct.usage")
            memory = .init(
                usage: try number("\(memoryDir)/memory.usage_in_bytes"),
                limit: min(try number("\(memoryDir)/memory.limit_in_bytes"), hostMemory),
                stats: try keyedNumbers("\(memoryDir)/memory.stat")
            )
            blockIO = blkio.flatMap { try? v1BlockIO($0) }
            pidsPath = pids.map { "\($0)/pids.current" }
        case .v2(let directory):
            guard let micros = try keyedNumbers("\(directory)/cpu.stat")["usage_usec"] else {
                throw .missingField(file: "\(directory)/cpu.stat", field: "usage_usec")
            }
            cpuTotal = micros &* 1000
            let max = try ProcFile.contents(of: "\(directory)/memory.max")[...].trimmingSpaces
            memory = .init(
                usage: try number("\(directory)/memory.current"),
                limit: UInt64(max).map { min($0, hostMemory) } ?? hostMemory,
                stats: try keyedNumbers("\(directory)/memory.stat")
            )
            blockIO = try? v2BlockIO("\(directory)/io.stat")
            pidsPath = "\(directory)/pids.current"
        }

        let netPath = "\(root)/proc/\(pid)/net/dev"
        let interfaces = try NetDev.parse(ProcFile.contents(of: netPath), source: netPath).filter { $0.name != "lo" }
        // The engine reports no networks for a container without any but loopback; neither do we.
        let networks = interfaces.isEmpty
            ? nil : Dictionary(interfaces.map { ($0.name, ContainerStatsSample.Network(rxBytes: $0.rxBytes, txBytes: $0.txBytes)) }) { a, _ in a }
        let times = stat.aggregate
        // The engine's system_cpu_usage: the first seven /proc/stat columns (no steal), in nanoseconds.
        let systemTicks = times.user + times.nice + times.system + times.idle + times.iowait + times.irq + times.softirq
        return ContainerStatsSample(
            cpu: .init(usage: .init(totalUsage: cpuTotal), systemUsage: systemTicks * (1_000_000_000 / ticksPerSecond), onlineCPUs: stat.cores.count),
            memory: memory,
            networks: networks,
            blockIO: blockIO,
            pids: .init(current: pidsPath.flatMap { try? number($0) }.map { Int($0) })
        )
    }

    /// A file holding one number, such as `memory.current`.
    private func number(_ path: String) throws(TelemetryError) -> UInt64 {
        let text = try ProcFile.contents(of: path)[...].trimmingSpaces
        guard let value = UInt64(text) else { throw .malformed(file: path, line: 1, reason: "'\(text)' is not a number") }
        return value
    }

    /// A file of `key value` lines, such as `memory.stat` or `cpu.stat`.
    private func keyedNumbers(_ path: String) throws(TelemetryError) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in try ProcFile.contents(of: path).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }

    /// `MAJ:MIN Read N` lines; the throttle file is the one that counts on every I/O scheduler.
    private func v1BlockIO(_ directory: String) throws(TelemetryError) -> ContainerStatsSample.BlockIO {
        let path = "\(directory)/blkio.throttle.io_service_bytes_recursive"
        var entries: [ContainerStatsSample.BlockIO.Entry] = []
        for line in try ProcFile.contents(of: path).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0].contains(":"), let value = UInt64(fields[2]) else { continue }
            entries.append(.init(op: String(fields[1]), value: value))
        }
        return .init(serviceBytes: entries)
    }

    /// `MAJ:MIN rbytes=N wbytes=N ...` lines.
    private func v2BlockIO(_ path: String) throws(TelemetryError) -> ContainerStatsSample.BlockIO {
        var entries: [ContainerStatsSample.BlockIO.Entry] = []
        for line in try ProcFile.contents(of: path).split(separator: "\n") {
            for field in line.split(separator: " ").dropFirst() {
                let pair = field.split(separator: "=")
                guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                if pair[0] == "rbytes" { entries.append(.init(op: "read", value: value)) }
                if pair[0] == "wbytes" { entries.append(.init(op: "write", value: value)) }
            }
        }
        return .init(serviceBytes: entries)
    }
}
