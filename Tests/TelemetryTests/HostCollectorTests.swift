import Foundation
import Testing
@testable import Telemetry

/// Drives `HostCollector` over a fake /proc and /sys whose counters the test rewrites.
@Suite("HostCollector on a fake proc root")
struct HostCollectorTests {
    let tree: TemporaryTree
    let clock = ManualClock()
    let wallTime = Date(timeIntervalSince1970: 1_732_200_000.123)

    init() throws {
        tree = try TemporaryTree()
        for device in ["sda", "nvme0n1", "loop0"] {
            try tree.makeDirectory("sys/block/\(device)")
        }
        try tree.makeDirectory("fs root")
        try tree.write(MemInfoTests.fixture, to: "proc/meminfo")
        try tree.write("0.52 0.58 1.59 2/613 12345\n", to: "proc/loadavg")
        try tree.write("350735.47 234388.90\n", to: "proc/uptime")
        let escapedRoot = tree.path("fs root").replacingOccurrences(of: " ", with: "\\040")
        try tree.write("""
            proc /proc proc rw 0 0
            /dev/fake1 \(escapedRoot) ext4 rw,relatime 0 0
            tmpfs /run tmpfs rw 0 0
            /dev/fake1 /bind/of/same/device ext4 rw 0 0
            /dev/gone /nonexistent/mount/point xfs rw 0 0

            """, to: "proc/self/mounts")
        try writeCounters(
            stat: """
                cpu  1000 0 500 8000 500 0 0 0 0 0
                cpu0 500 0 250 4000 250 0 0 0 0 0
                cpu1 500 0 250 4000 250 0 0 0 0 0
                ctxt 123
                """,
            net: ["lo": (1000, 1000), "eth0": (1_000_000, 500_000), "wg0": (5000, 5000)],
            disks: ["sda": (2048, 4096), "sda1": (1024, 2048), "nvme0n1": (90_000, 1000), "loop0": (10, 10)]
        )
    }

    private func makeCollector() throws -> HostCollector {
        let clock = clock
        let wallTime = wallTime
        return try HostCollector(
            procRoot: tree.path("proc"), sysRoot: tree.path("sys"),
            now: { clock.now }, wallClock: { wallTime })
    }

    /// Writes /proc/stat, /proc/net/dev and /proc/diskstats (counters in bytes and sectors).
    private func writeCounters(
        stat: String,
        net: KeyValuePairs<String, (rx: UInt64, tx: UInt64)>,
        disks: KeyValuePairs<String, (sectorsRead: UInt64, sectorsWritten: UInt64)>
    ) throws {
        try tree.write(stat + "\n", to: "proc/stat")
        var netDev = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed

            """
        for (name, counters) in net {
            netDev += "\(name): \(counters.rx) 10 0 0 0 0 0 0 \(counters.tx) 10 0 0 0 0 0 0\n"
        }
        try tree.write(netDev, to: "proc/net/dev")
        var diskStats = ""
        for (index, (name, counters)) in disks.enumerated() {
            diskStats += "   8 \(index) \(name) 100 0 \(counters.sectorsRead) 50 200 0 \(counters.sectorsWritten) 80 0 120 130 0 0 0 0\n"
        }
        try tree.write(diskStats, to: "proc/diskstats")
    }

    /// Second reading, 3 s after the priming one.
    private func writeLaterCounters() throws {
        try writeCounters(
            stat: """
                cpu  1700 0 700 8400 600 0 0 200 0 0
                cpu0 1100 0 450 4000 250 0 0 200 0 0
                cpu1 600 0 250 4400 350 0 0 0 0 0
                ctxt 456
                """,
            net: [
                "lo": (1000, 1000),
                "eth0": (4_000_001, 501_000),
                "wg0": (100, 5333),       // rx counter reset
                "veth1": (9999, 9999),    // appeared since the last sample
            ],
            disks: [
                "sda": (8048, 4097), "sda1": (5000, 5000),
                "nvme0n1": (10, 1300),    // read counter reset
                "loop0": (500, 500),
            ]
        )
    }

    @Test func computesPercentagesAndRatesOverInjectedElapsedTime() throws {
        defer { tree.delete() }
        var collector = try makeCollector()
        try writeLaterCounters()
        clock.advance(by: .seconds(3))

        let snapshot = try collector.sample()

        // cpu:  Δtotal 1600, Δbusy 1100.  cpu0: 1000 / 1000.  cpu1: 100 / 600.
        #expect(snapshot.cpu == HostSnapshot.CPU(totalPercent: 68.75, perCorePercent: [100, 16.67], cores: 2))
        let expectedNetwork: [HostSnapshot.NetworkInterface] = [
            .init(interface: "lo", rxBytesPerSec: 0, txBytesPerSec: 0, rxBytesTotal: 1000, txBytesTotal: 1000),
            .init(interface: "eth0", rxBytesPerSec: 1_000_000.3, txBytesPerSec: 333.3,
                  rxBytesTotal: 4_000_001, txBytesTotal: 501_000),
            .init(interface: "wg0", rxBytesPerSec: 0, txBytesPerSec: 111, rxBytesTotal: 100, txBytesTotal: 5333),
            .init(interface: "veth1", rxBytesPerSec: 0, txBytesPerSec: 0, rxBytesTotal: 9999, txBytesTotal: 9999),
        ]
        #expect(snapshot.network == expectedNetwork)
        #expect(snapshot.network.map(\.isLoopback) == [true, false, false, false])
        // sda: 6000 sectors read = 3,072,000 B over 3 s; 1 sector written = 512 B over 3 s.
        let expectedDisks: [HostSnapshot.Disk] = [
            .init(device: "sda", readBytesPerSec: 1_024_000, writeBytesPerSec: 170.7,
                  readBytesTotal: 4_120_576, writeBytesTotal: 2_097_664),
            .init(device: "nvme0n1", readBytesPerSec: 0, writeBytesPerSec: 51_200,
                  readBytesTotal: 5_120, writeBytesTotal: 665_600),
        ]
        #expect(snapshot.disks == expectedDisks)
    }

    @Test func reportsStaticFiguresFromTheFakeRoot() throws {
        defer { tree.delete() }
        var collector = try makeCollector()
        clock.advance(by: .seconds(1))
        let snapshot = try collector.sample()

        #expect(snapshot.timestampMs == 1_732_200_000_123)
        #expect(snapshot.uptimeSeconds == 350_735.47)
        #expect(snapshot.load == HostSnapshot.Load(one: 0.52, five: 0.58, fifteen: 1.59))
        #expect(snapshot.memory == HostSnapshot.Memory(
            totalBytes: 8_234_283_008, availableBytes: 5_246_418_944, usedBytes: 2_987_864_064,
            freeBytes: 627_044_352, buffersBytes: 209_715_200, cachedBytes: 4_083_357_696, usedPercent: 36.29))
        #expect(snapshot.swap == HostSnapshot.Swap(
            totalBytes: 2_147_479_552, usedBytes: 536_870_912, freeBytes: 1_610_608_640, usedPercent: 25))
        // Unchanged counters: everything idle, no traffic.
        #expect(snapshot.cpu == HostSnapshot.CPU(totalPercent: 0, perCorePercent: [0, 0], cores: 2))
        #expect(snapshot.network.allSatisfy { $0.rxBytesPerSec == 0 && $0.txBytesPerSec == 0 })

        // Pseudo filesystems, the bind mount of the same device and the unreachable mount are dropped.
        #expect(snapshot.filesystems.count == 1)
        let filesystem = try #require(snapshot.filesystems.first)
        #expect(filesystem.mount == tree.path("fs root"))
        #expect(filesystem.device == "/dev/fake1")
        #expect(filesystem.fsType == "ext4")
        #expect(filesystem.totalBytes == FileSystemProbe.totalBytes(tree.path("fs root")))
        #expect(filesystem.usedBytes + filesystem.availableBytes <= filesystem.totalBytes)
    }

    @Test func firstSampleMeasuresFromInitAndLaterSamplesFromThePreviousOne() throws {
        defer { tree.delete() }
        var collector = try makeCollector()
        try writeLaterCounters()
        clock.advance(by: .seconds(3))
        _ = try collector.sample()

        // No new traffic and no time passing: rates must be 0, never NaN or infinite.
        let idle = try collector.sample()
        #expect(idle.network.allSatisfy { $0.rxBytesPerSec == 0 && $0.txBytesPerSec == 0 })
        #expect(idle.disks.allSatisfy { $0.readBytesPerSec == 0 && $0.writeBytesPerSec == 0 })
        #expect(idle.cpu.totalPercent == 0)
    }

    @Test func failedSampleKeepsThePreviousBaseline() throws {
        defer { tree.delete() }
        var collector = try makeCollector()
        try writeLaterCounters()
        clock.advance(by: .seconds(1))
        try tree.remove("proc/meminfo")

        let error = #expect(throws: TelemetryError.self) { try collector.sample() }
        #expect(error == .unreadable(file: tree.path("proc/meminfo"), reason: "No such file or directory"))

        try tree.write(MemInfoTests.fixture, to: "proc/meminfo")
        clock.advance(by: .seconds(2))
        let snapshot = try collector.sample()
        // Still measured against the priming reading, over all 3 s.
        #expect(snapshot.disks.first?.readBytesPerSec == 1_024_000)
        #expect(snapshot.cpu.totalPercent == 68.75)
    }

    @Test func malformedCounterFileIsATypedError() throws {
        defer { tree.delete() }
        var collector = try makeCollector()
        try tree.write("cpu  1 2 three 4\n", to: "proc/stat")
        #expect(throws: TelemetryError.malformed(
            file: tree.path("proc/stat"), line: 1, reason: "'three' is not a counter")) {
            try collector.sample()
        }
    }

    @Test func missingProcRootFailsAtInit() {
        defer { tree.delete() }
        #expect(throws: TelemetryError.unreadable(
            file: tree.path("absent/stat"), reason: "No such file or directory")) {
            try HostCollector(procRoot: tree.path("absent"))
        }
    }
}
