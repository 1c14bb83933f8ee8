import Foundation
import Testing
@testable import Telemetry

@Suite("/proc/stat")
struct ProcStatTests {
    static let fixture = """
        cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0
        cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0
        cpu1 1335298 30209 539466 13405383 3437 0 3279 7 60003 0
        intr 199292 0 9 0 0 0 0 3 0 1 0 0 0 0 0 0 0
        ctxt 383273432
        btime 1732190000
        processes 35342
        procs_running 2
        procs_blocked 0
        softirq 7015452 0 2123134 1 283451 0 0 1029 2061098 0 2546739

        """

    @Test func parsesAggregateAndCores() throws {
        let stat = try ProcStat(parsing: Self.fixture)
        #expect(stat.aggregate == CPUTimes(
            user: 10132153, nice: 290696, system: 3084719, idle: 46828483,
            iowait: 16683, irq: 0, softirq: 25195, steal: 0))
        #expect(stat.cores.count == 2)
        #expect(stat.cores[1] == CPUTimes(
            user: 1335298, nice: 30209, system: 539466, idle: 13405383,
            iowait: 3437, irq: 0, softirq: 3279, steal: 7))
        // Guest columns (9th, 10th) are already inside user/nice and must not be added again.
        #expect(stat.cores[0]!.total == 1393280 + 32966 + 572056 + 13343292 + 6130 + 0 + 17875 + 0)
        #expect(stat.cores[0]!.busy == 1393280 + 32966 + 572056 + 17875)
    }

    @Test func keysCoresByNumberWhenSomeAreOffline() throws {
        let stat = try ProcStat(parsing: "cpu  4 0 0 4\ncpu3 1 0 0 1\ncpu0 3 0 0 3\n")
        #expect(stat.cores.keys.sorted() == [0, 3])
        #expect(stat.cores[3]?.user == 1)
    }

    @Test func acceptsOldKernelsWithFourColumns() throws {
        let stat = try ProcStat(parsing: "cpu 1 2 3 4\n")
        #expect(stat.aggregate == CPUTimes(user: 1, nice: 2, system: 3, idle: 4))
    }

    @Test func busyPercentCountsIowaitAsIdle() {
        let old = CPUTimes(user: 100, nice: 0, system: 50, idle: 800, iowait: 50)
        let new = CPUTimes(user: 200, nice: 0, system: 100, idle: 1000, iowait: 100)
        // Δtotal = 400, Δbusy = 150.
        #expect(new.busyPercent(since: old) == 37.5)
    }

    @Test func busyPercentRoundsToTwoDecimals() {
        let old = CPUTimes(user: 0, nice: 0, system: 0, idle: 0)
        let new = CPUTimes(user: 1, nice: 0, system: 0, idle: 2)
        #expect(new.busyPercent(since: old) == 33.33)
    }

    @Test func busyPercentIsZeroWithoutElapsedTicksOrAfterReset() {
        let times = CPUTimes(user: 10, nice: 0, system: 0, idle: 10)
        #expect(times.busyPercent(since: times) == 0)
        #expect(CPUTimes.zero.busyPercent(since: times) == 0)
    }

    @Test func rejectsNonNumericCounter() throws {
        let error = #expect(throws: TelemetryError.self) {
            try ProcStat(parsing: "cpu  1 2 3 4\ncpu0 1 x 3 4\n")
        }
        guard case .malformed(let file, let line, _) = error else {
            Issue.record("expected .malformed, got \(String(describing: error))"); return
        }
        #expect(file == "/proc/stat")
        #expect(line == 2)
    }

    @Test func rejectsTooFewColumns() {
        #expect(throws: TelemetryError.malformed(
            file: "/proc/stat", line: 1, reason: "expected at least 4 counters, found 3")) {
            try ProcStat(parsing: "cpu 1 2 3\n")
        }
    }

    @Test func requiresAggregateLine() {
        #expect(throws: TelemetryError.missingField(file: "/x/stat", field: "cpu")) {
            try ProcStat(parsing: "cpu0 1 2 3 4\nctxt 5\n", source: "/x/stat")
        }
    }
}

@Suite("/proc/loadavg and /proc/uptime")
struct LoadAndUptimeTests {
    @Test func parsesLoadAverages() throws {
        let load = try LoadAvg.parse("0.52 0.58 1.59 2/613 12345\n")
        #expect(load == HostSnapshot.Load(one: 0.52, five: 0.58, fifteen: 1.59))
    }

    @Test func rejectsShortLoadavg() {
        #expect(throws: TelemetryError.self) { try LoadAvg.parse("0.52 0.58\n") }
        #expect(throws: TelemetryError.self) { try LoadAvg.parse("0.52 abc 0.1 1/2 3\n") }
    }

    @Test func parsesUptime() throws {
        #expect(try Uptime.parse("350735.47 234388.90\n") == 350735.47)
    }

    @Test func rejectsBadUptime() {
        #expect(throws: TelemetryError.malformed(file: "/proc/uptime", line: 1, reason: "file is empty")) {
            try Uptime.parse("\n")
        }
        #expect(throws: TelemetryError.self) { try Uptime.parse("up 12\n") }
    }
}

@Suite("/proc/meminfo")
struct MemInfoTests {
    static let fixture = """
        MemTotal:        8041292 kB
        MemFree:          612348 kB
        MemAvailable:    5123456 kB
        Buffers:          204800 kB
        Cached:          3987654 kB
        SwapCached:        10240 kB
        Active:          3001234 kB
        Inactive:        3512345 kB
        SwapTotal:       2097148 kB
        SwapFree:        1572860 kB
        Dirty:               316 kB
        HugePages_Total:       0
        HugePages_Free:        0
        Hugepagesize:       2048 kB

        """

    @Test func parsesFieldsAsBytes() throws {
        let info = try MemInfo(parsing: Self.fixture)
        #expect(info.total == 8_234_283_008)
        #expect(info.free == 627_044_352)
        #expect(info.available == 5_246_418_944)
        #expect(info.buffers == 209_715_200)
        #expect(info.cached == 4_083_357_696)
        #expect(info.swapTotal == 2_147_479_552)
        #expect(info.swapFree == 1_610_608_640)
    }

    @Test func reportsMissingField() {
        let withoutAvailable = Self.fixture.replacingOccurrences(of: "MemAvailable:    5123456 kB\n", with: "")
        #expect(throws: TelemetryError.missingField(file: "/proc/meminfo", field: "MemAvailable")) {
            try MemInfo(parsing: withoutAvailable)
        }
    }

    @Test func rejectsUnparsableValue() {
        let error = #expect(throws: TelemetryError.self) {
            try MemInfo(parsing: "MemTotal: 100 kB\nMemFree: lots kB\n")
        }
        #expect(error == .malformed(file: "/proc/meminfo", line: 2, reason: "'lots kB' is not a size"))
    }

    @Test func rejectsUnknownUnit() {
        #expect(throws: TelemetryError.malformed(file: "/proc/meminfo", line: 1, reason: "unknown unit 'MB'")) {
            try MemInfo(parsing: "MemTotal: 100 MB\n")
        }
    }
}

@Suite("/proc/net/dev")
struct NetDevTests {
    static let fixture = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 2776770   11307    0    0    0     0          0         0  2776770   11307    0    0    0     0       0          0
          eth0: 1215645   2751    0    0    0     0          0         0  1782404    4324    0    0    0   427       0          0
        wlan0:18446744073709551615 12 0 0 0 0 0 0 42 1 0 0 0 0 0 0

        """

    @Test func parsesEveryInterfaceIncludingLoopback() throws {
        let interfaces = try NetDev.parse(Self.fixture)
        #expect(interfaces == [
            InterfaceCounters(name: "lo", rxBytes: 2_776_770, txBytes: 2_776_770),
            InterfaceCounters(name: "eth0", rxBytes: 1_215_645, txBytes: 1_782_404),
            InterfaceCounters(name: "wlan0", rxBytes: UInt64.max, txBytes: 42),
        ])
    }

    @Test func rejectsLineWithoutColon() {
        let broken = Self.fixture.replacingOccurrences(of: "eth0:", with: "eth0 ")
        #expect(throws: TelemetryError.malformed(
            file: "/proc/net/dev", line: 4, reason: "no ':' after interface name")) {
            try NetDev.parse(broken)
        }
    }

    @Test func rejectsTruncatedCounters() {
        #expect(throws: TelemetryError.self) { try NetDev.parse("eth0: 1 2 3\n") }
    }
}

@Suite("/proc/diskstats")
struct DiskStatsTests {
    static let fixture = """
           7       0 loop0 52 0 2130 11 0 0 0 0 0 24 11 0 0 0 0 0 0
         259       0 nvme0n1 183625 52086 13102870 38012 322512 154340 19857562 291870 0 233580 338470 0 0 0 0 24532 8586
         259       1 nvme0n1p1 364 1266 10768 72 2 0 2 1 0 84 73 0 0 0 0 0 0
           8       0 sda 4998 2972 1649986 8859 6202 13952 594936 6720 0 8772 15880

        """

    @Test func convertsSectorsToBytes() throws {
        let disks = try DiskStats.parse(Self.fixture)
        #expect(disks.map(\.name) == ["loop0", "nvme0n1", "nvme0n1p1", "sda"])
        #expect(disks[1] == DiskCounters(name: "nvme0n1", readBytes: 13_102_870 * 512, writeBytes: 19_857_562 * 512))
        #expect(disks[3] == DiskCounters(name: "sda", readBytes: 1_649_986 * 512, writeBytes: 594_936 * 512))
    }

    @Test func rejectsShortLine() {
        #expect(throws: TelemetryError.malformed(
            file: "/proc/diskstats", line: 2, reason: "expected device name and at least 7 counters")) {
            try DiskStats.parse("   8 0 sda 1 2 3 4 5 6 7 8\n   8 1 sda1 1 2 3\n")
        }
    }

    @Test func keepsOnlyWholeNonVirtualDevices() throws {
        let sys = try TemporaryTree()
        defer { sys.delete() }
        for name in ["nvme0n1", "sda", "loop0", "zram0", "cciss!c0d0"] {
            try sys.makeDirectory("block/\(name)")
        }
        let filter = BlockDeviceFilter(sysRoot: sys.path())
        #expect(filter.includes("nvme0n1"))
        #expect(filter.includes("sda"))
        #expect(filter.includes("cciss/c0d0"))
        #expect(!filter.includes("nvme0n1p1"))
        #expect(!filter.includes("sda1"))
        #expect(!filter.includes("loop0"))
        #expect(!filter.includes("zram0"))
        #expect(!filter.includes("ram0"))
    }
}

@Suite("mount table")
struct MountTableTests {
    static let fixture = """
        sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
        proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
        /dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0
        tmpfs /run tmpfs rw,nosuid,nodev,size=1628180k,mode=755 0 0
        cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0
        /dev/nvme0n1p1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077 0 0
        /dev/sda1 /mnt/media\\040library xfs rw,relatime 0 0
        overlay /var/lib/docker/overlay2/abc/merged overlay rw,relatime,lowerdir=/x 0 0
        /dev/nvme0n1p2 /var/lib/docker/volumes ext4 rw,relatime 0 0
        nas:/export/backup /mnt/backup nfs4 rw,relatime,vers=4.2 0 0
        /dev/loop3 /snap/core/17200 squashfs ro,nodev,relatime 0 0
        nsfs /run/docker/netns/default nsfs rw 0 0

        """

    @Test func keepsRealFilesystemsOncePerDevice() throws {
        let real = MountTable.realFilesystems(try MountTable.parse(Self.fixture))
        #expect(real == [
            MountEntry(device: "/dev/nvme0n1p2", mountPoint: "/", fsType: "ext4"),
            MountEntry(device: "/dev/nvme0n1p1", mountPoint: "/boot/efi", fsType: "vfat"),
            MountEntry(device: "/dev/sda1", mountPoint: "/mnt/media library", fsType: "xfs"),
            MountEntry(device: "nas:/export/backup", mountPoint: "/mnt/backup", fsType: "nfs4"),
        ])
    }

    @Test func decodesOctalEscapes() {
        #expect(MountTable.unescape(#"/a\040b\011c\134d"#) == "/a b\tc\\d")
        #expect(MountTable.unescape(#"/trailing\04"#) == #"/trailing\04"#)
    }

    @Test func rejectsTruncatedLine() {
        #expect(throws: TelemetryError.malformed(
            file: "/proc/self/mounts", line: 2, reason: "expected device, mount point and type")) {
            try MountTable.parse("/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /data\n")
        }
    }
}

@Suite("rates and percentages")
struct ArithmeticTests {
    @Test func rateUsesElapsedTimeAndRoundsToOneDecimal() {
        #expect(Rate.perSecond(from: 1000, to: 2000, over: .milliseconds(3000)) == 333.3)
        #expect(Rate.perSecond(from: 0, to: 1500, over: .milliseconds(500)) == 3000)
    }

    @Test func rateIsZeroWhenCounterWrapsOrNoTimePassed() {
        #expect(Rate.perSecond(from: 5000, to: 10, over: .seconds(1)) == 0)
        #expect(Rate.perSecond(from: 10, to: 5000, over: .zero) == 0)
    }

    @Test func percentClampsAndRounds() {
        #expect(Percent.of(1, in: 3) == 33.33)
        #expect(Percent.of(2, in: 3) == 66.67)
        #expect(Percent.of(5, in: 0) == 0)
        #expect(Percent.of(7, in: 5) == 100)
    }
}
