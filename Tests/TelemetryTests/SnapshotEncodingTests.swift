import Foundation
import Testing
@testable import Telemetry

@Suite("HostSnapshot JSON")
struct SnapshotEncodingTests {
    static let sample = HostSnapshot(
        timestampMs: 1_732_200_000_123,
        hostname: "box",
        uptimeSeconds: 12345.6,
        cpu: .init(totalPercent: 12.5, perCorePercent: [10, 15], cores: 2),
        load: .init(one: 0.5, five: 0.4, fifteen: 0.3),
        memory: .init(totalBytes: 8_000, availableBytes: 6_000, usedBytes: 2_000, freeBytes: 1_000,
                      buffersBytes: 100, cachedBytes: 4_000, usedPercent: 25),
        swap: .init(totalBytes: 1_000, usedBytes: 250, freeBytes: 750, usedPercent: 25),
        network: [.init(interface: "eth0", rxBytesPerSec: 1.5, txBytesPerSec: 2.5, rxBytesTotal: 10, txBytesTotal: 20)],
        disks: [.init(device: "vda", readBytesPerSec: 512, writeBytesPerSec: 1024, readBytesTotal: 4096, writeBytesTotal: 8192)],
        filesystems: [.init(mount: "/", device: "/dev/vda", fsType: "ext4", totalBytes: 100,
                            usedBytes: 40, availableBytes: 50, usedPercent: 44.44)]
    )

    private func object(_ value: Any?) throws -> [String: Any] {
        try #require(value as? [String: Any])
    }

    private func firstElement(_ value: Any?) throws -> [String: Any] {
        try object(try #require(value as? [Any]).first)
    }

    @Test func usesTheAgreedSnakeCaseKeys() throws {
        let data = try JSONEncoder().encode(Self.sample)
        let json = try object(try JSONSerialization.jsonObject(with: data))

        #expect(Set(json.keys) == [
            "timestamp_ms", "hostname", "uptime_seconds", "cpu", "load", "memory", "swap",
            "network", "disks", "filesystems",
        ])
        #expect(Set(try object(json["cpu"]).keys) == ["total_percent", "per_core_percent", "cores"])
        #expect(Set(try object(json["load"]).keys) == ["one", "five", "fifteen"])
        #expect(Set(try object(json["memory"]).keys) == [
            "total_bytes", "available_bytes", "used_bytes", "free_bytes", "buffers_bytes", "cached_bytes", "used_percent",
        ])
        #expect(Set(try object(json["swap"]).keys) == ["total_bytes", "used_bytes", "free_bytes", "used_percent"])
        #expect(Set(try firstElement(json["network"]).keys) == [
            "interface", "rx_bytes_per_sec", "tx_bytes_per_sec", "rx_bytes_total", "tx_bytes_total",
        ])
        #expect(Set(try firstElement(json["disks"]).keys) == [
            "device", "read_bytes_per_sec", "write_bytes_per_sec", "read_bytes_total", "write_bytes_total",
        ])
        #expect(Set(try firstElement(json["filesystems"]).keys) == [
            "mount", "device", "fs_type", "total_bytes", "used_bytes", "available_bytes", "used_percent",
        ])
    }

    @Test func encodesIntegersAsIntegers() throws {
        let text = String(decoding: try JSONEncoder().encode(Self.sample), as: UTF8.self)
        #expect(text.contains(#""timestamp_ms":1732200000123"#))
        #expect(text.contains(#""total_bytes":8000"#))
        #expect(text.contains(#""cores":2"#))
        #expect(text.contains(#""hostname":"box""#))
    }

    @Test func roundTrips() throws {
        let data = try JSONEncoder().encode(Self.sample)
        #expect(try JSONDecoder().decode(HostSnapshot.self, from: data) == Self.sample)
    }
}
