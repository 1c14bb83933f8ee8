import Foundation
import Testing
@testable import Telemetry

/// Compares a real snapshot with values read independently from this machine.
@Suite("HostCollector on this machine", .enabled(if: FileManager.default.fileExists(atPath: "/proc/stat")))
struct LiveHostTests {
    /// Simple, separate reading of /proc so the check does not reuse the code under test.
    private func procText(_ name: String) throws -> String {
        let data = try #require(FileHandle(forReadingAtPath: "/proc/\(name)")?.readDataToEndOfFile())
        return String(decoding: data, as: UTF8.self)
    }

    private func numbers(in line: Substring) -> [Double] {
        line.split(separator: " ").compactMap { Double($0) }
    }

    @Test func matchesIndependentReadings() throws {
        var collector = try HostCollector()
        Thread.sleep(forTimeInterval: 0.2)
        let snapshot = try collector.sample()

        let memTotalLine = try #require(try procText("meminfo").split(separator: "\n").first { $0.hasPrefix("MemTotal:") })
        let memTotalKiB = try #require(numbers(in: memTotalLine).first)
        #expect(snapshot.memory.totalBytes == UInt64(memTotalKiB) * 1024)

        let load = numbers(in: try procText("loadavg").split(separator: "\n")[0])
        #expect(abs(snapshot.load.one - load[0]) <= 0.05)
        #expect(abs(snapshot.load.five - load[1]) <= 0.05)
        #expect(abs(snapshot.load.fifteen - load[2]) <= 0.05)

        let uptime = numbers(in: try procText("uptime").split(separator: "\n")[0])[0]
        #expect(abs(snapshot.uptimeSeconds - uptime) <= 2)

        let cpuLines = try procText("stat").split(separator: "\n").filter {
            $0.hasPrefix("cpu") && $0.dropFirst(3).first?.isNumber == true
        }
        #expect(snapshot.cpu.perCorePercent.count == cpuLines.count)
        #expect(snapshot.cpu.cores == cpuLines.count)

        let root = try #require(snapshot.filesystems.first { $0.mount == "/" })
        #expect(root.totalBytes == FileSystemProbe.totalBytes("/"))
        let used = Double(FileSystemProbe.usedBytes("/"))
        #expect(abs(Double(root.usedBytes) - used) <= used * 0.01)
    }

    @Test func everyPercentageIsWithinRange() throws {
        var collector = try HostCollector()
        Thread.sleep(forTimeInterval: 0.2)
        let snapshot = try collector.sample()
        let percents = [snapshot.cpu.totalPercent, snapshot.memory.usedPercent, snapshot.swap.usedPercent]
            + snapshot.cpu.perCorePercent
            + snapshot.filesystems.map(\.usedPercent)
        #expect(percents.allSatisfy { (0...100).contains($0) }, "\(percents)")
        #expect(snapshot.network.allSatisfy { $0.rxBytesPerSec >= 0 && $0.txBytesPerSec >= 0 })
        #expect(snapshot.disks.allSatisfy { $0.readBytesPerSec >= 0 && $0.writeBytesPerSec >= 0 })
        #expect(!snapshot.hostname.isEmpty)
    }
}

/// Direct statvfs reads, kept independent of `FilesystemUsage`.
enum FileSystemProbe {
    static func totalBytes(_ path: String) -> UInt64 {
        var stats = statvfs()
        precondition(statvfs(path, &stats) == 0)
        return UInt64(stats.f_blocks) * UInt64(stats.f_frsize)
    }

    static func usedBytes(_ path: String) -> UInt64 {
        var stats = statvfs()
        precondition(statvfs(path, &stats) == 0)
        return (UInt64(stats.f_blocks) - UInt64(stats.f_bfree)) * UInt64(stats.f_frsize)
    }
}
