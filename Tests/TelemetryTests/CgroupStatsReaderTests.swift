import Docker
import Foundation
import Testing

@testable import Telemetry

@Suite("Container usage straight from cgroup files")
struct CgroupStatsReaderTests {
    static let id = "84559fa8775daf946ec6e3acdea7b46805b1f97631508508096466bec423f051"
    static let meminfo = """
        MemTotal:        8000000 kB
        MemFree:         4000000 kB
        MemAvailable:    6000000 kB
        Buffers:          100000 kB
        Cached:          1000000 kB
        SwapTotal:             0 kB
        SwapFree:              0 kB
        """
    static let stat = """
        cpu  1000 0 500 8000 100 0 50 7 0 0
        cpu0 500 0 250 4000 50 0 25 3 0 0
        cpu1 500 0 250 4000 50 0 25 4 0 0
        intr 1
        """
    static let netDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:    9999      10    0    0    0     0          0         0     9999      10    0    0    0     0       0          0
          eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0
        """

    /// A host with the hybrid layout this machine's kernel uses: v1 controllers plus an empty unified mount.
    static func v1Host(_ tree: TemporaryTree, pid: Int, cgroupID: String = id) throws {
        try tree.write("""
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
            """, to: "proc/self/mountinfo")
        try tree.write("""
            12:pids:/docker/\(cgroupID)
            8:blkio:/docker/\(cgroupID)
            4:memory:/docker/\(cgroupID)
            2:cpu,cpuacct:/docker/\(cgroupID)
            1:name=systemd:/docker/\(cgroupID)
            0::/docker/\(cgroupID)
            """, to: "proc/\(pid)/cgroup")
        try tree.write(stat, to: "proc/stat")
        try tree.write(meminfo, to: "proc/meminfo")
        try tree.write(netDev, to: "proc/\(pid)/net/dev")
        let dir = "docker/\(cgroupID)"
        try tree.write("16343121648\n", to: "sys/fs/cgroup/cpu,cpuacct/\(dir)/cpuacct.usage")
        try tree.write("5242880\n", to: "sys/fs/cgroup/memory/\(dir)/memory.usage_in_bytes")
        try tree.write("9223372036854771712\n", to: "sys/fs/cgroup/memory/\(dir)/memory.limit_in_bytes")
        try tree.write("cache 1048576\ninactive_file 4096\ntotal_inactive_file 1048576\n", to: "sys/fs/cgroup/memory/\(dir)/memory.stat")
        try tree.write("8:0 Read 8192\n8:0 Write 4096\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n",
                       to: "sys/fs/cgroup/blkio/\(dir)/blkio.throttle.io_service_bytes_recursive")
        try tree.write("3\n", to: "sys/fs/cgroup/pids/\(dir)/pids.current")
    }

    /// A pure cgroup v2 host with the systemd driver's scope units.
    static func v2Host(_ tree: TemporaryTree, pid: Int, memoryMax: String) throws {
        try tree.write("24 30 0:21 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
                       to: "proc/self/mountinfo")
        try tree.write("0::/system.slice/docker-\(id).scope\n", to: "proc/\(pid)/cgroup")
        try tree.write(stat, to: "proc/stat")
        try tree.write(meminfo, to: "proc/meminfo")
        try tree.write(netDev, to: "proc/\(pid)/net/dev")
        let dir = "sys/fs/cgroup/system.slice/docker-\(id).scope"
        try tree.write("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n", to: "\(dir)/cpu.stat")
        try tree.write("10485760\n", to: "\(dir)/memory.current")
        try tree.write(memoryMax + "\n", to: "\(dir)/memory.max")
        try tree.write("anon 4194304\nfile 6291456\ninactive_file 2097152\n", to: "\(dir)/memory.stat")
        try tree.write("259:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=24 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n",
                       to: "\(dir)/io.stat")
        try tree.write("7\n", to: "\(dir)/pids.current")
    }

    @Test("cgroup v1 (hybrid host): the engine's numbers from the same files")
    func v1() throws {
        let tree = try TemporaryTree()
        defer { tree.delete() }
        try Self.v1Host(tree, pid: 4242)
        let sample = try CgroupStatsReader(root: tree.path()).sample(pid: 4242, containerID: Self.id)
        #expect(sample.cpu?.usage?.totalUsage == 16_343_121_648)
        let ticks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        // user+nice+system+idle+iowait+irq+softirq, steal left out as the engine does.
        #expect(sample.cpu?.systemUsage == 9650 * (1_000_000_000 / ticks))
        #expect(sample.cpu?.onlineCPUs == 2)
        // An unlimited cgroup reports the host's memory as its limit, as the engine does.
        #expect(sample.memory?.limit == 8_000_000 * 1024)
        let usage = ContainerUsage(sample, counters: ContainerCounters(sample, takenAt: 0), previous: nil)
        #expect(usage.memoryBytes == 5_242_880 - 1_048_576)
        #expect(usage.pids == 3)
        #expect(sample.networks == ["eth0": .init(rxBytes: 1500, txBytes: 700)])
        let counters = ContainerCounters(sample, takenAt: 0)
        #expect(counters.blockRead == 8192 && counters.blockWrite == 4096)
    }

    @Test("cgroup v2: usage_usec, memory.current minus inactive_file, io.stat summed, memory.max")
    func v2() throws {
        let tree = try TemporaryTree()
        defer { tree.delete() }
        try Self.v2Host(tree, pid: 77, memoryMax: "268435456")
        let sample = try CgroupStatsReader(root: tree.path()).sample(pid: 77, containerID: Self.id)
        #expect(sample.cpu?.usage?.totalUsage == 2_500_000_000)
        #expect(sample.memory?.limit == 268_435_456)
        let counters = ContainerCounters(sample, takenAt: 0)
        #expect(counters.blockRead == 1024 && counters.blockWrite == 2000)
        let usage = ContainerUsage(sample, counters: counters, previous: nil)
        #expect(usage.memoryBytes == 10_485_760 - 2_097_152)
        #expect(usage.memoryPercent == Double(10_485_760 - 2_097_152) / 268_435_456 * 100)
        #expect(usage.pids == 7)

        try tree.write("max\n", to: "sys/fs/cgroup/system.slice/docker-\(Self.id).scope/memory.max")
        let unlimited = try CgroupStatsReader(root: tree.path()).sample(pid: 77, containerID: Self.id)
        #expect(unlimited.memory?.limit == 8_000_000 * 1024)
    }

    @Test("CPU percent over two readings matches the engine's formula")
    func cpuPercent() throws {
        let tree = try TemporaryTree()
        defer { tree.delete() }
        try Self.v2Host(tree, pid: 77, memoryMax: "max")
        let reader = try CgroupStatsReader(root: tree.path())
        let first = try reader.sample(pid: 77, containerID: Self.id)
        // One second later on a 2-CPU host: 200 ticks of system time pass, the container used 0.5 s.
        let ticks = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        try tree.write("""
            cpu  \(1000 + ticks) 0 500 \(8000 + ticks) 100 0 50 7 0 0
            cpu0 500 0 250 4000 50 0 25 3 0 0
            cpu1 500 0 250 4000 50 0 25 4 0 0
            """, to: "proc/stat")
        try tree.write("usage_usec 3000000\n", to: "sys/fs/cgroup/system.slice/docker-\(Self.id).scope/cpu.stat")
        let second = try reader.sample(pid: 77, containerID: Self.id)
        let before = ContainerCounters(first, takenAt: 0)
        let usage = ContainerUsage(second, counters: ContainerCounters(second, takenAt: 1), previous: before)
        let cpu = try #require(usage.cpuPercent)
        #expect(abs(cpu - 50) < 0.001, "\(cpu)")
    }

    @Test("a process that is not the container's (a reused PID) is refused, not reported")
    func reusedPID() throws {
        let tree = try TemporaryTree()
        defer { tree.delete() }
        try Self.v1Host(tree, pid: 4242, cgroupID: "ce36436f8c9c03c788ebfc243ae65335a0dfadff78579f0800d8a530ea66b8ca")
        let reader = try CgroupStatsReader(root: tree.path())
        #expect(throws: TelemetryError.self) { try reader.sample(pid: 4242, containerID: Self.id) }
        #expect(throws: TelemetryError.self) { try reader.sample(pid: 0, containerID: Self.id) }
        // A process that is gone.
        #expect(throws: TelemetryError.self) { try reader.sample(pid: 999_999, containerID: Self.id) }
    }

    @Test("a mount that shows only part of the hierarchy maps paths below its root")
    func partialMount() throws {
        let mounts = try CgroupMounts(parsing: "40 31 0:38 /docker /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
        let mount = try #require(mounts.unified)
        #expect(CgroupMounts.directory(of: "/docker/abc", in: mount) == "/sys/fs/cgroup/abc")
        #expect(CgroupMounts.directory(of: "/system.slice/x", in: mount) == nil)
        #expect(throws: TelemetryError.self) { try CgroupMounts(parsing: "garbage line\n") }
    }
}
