import Docker
import Foundation
import Testing

@testable import Telemetry

@Suite("Container usage from engine samples")
struct ContainerUsageTests {
    static func fixture<T: Decodable>(_ name: String, as type: T.Type = ContainerStatsSample.self) throws -> T {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    @Test("a real Docker sample pair (cgroup v1): a --cpus 0.5 busy loop reads about 50 %")
    func dockerCgroupV1() throws {
        let a = try Self.fixture("docker-stats-cgroup1-a")
        let b = try Self.fixture("docker-stats-cgroup1-b")
        let first = ContainerCounters(a, takenAt: 0)
        let second = ContainerCounters(b, takenAt: 2)
        #expect(ContainerUsage(a, counters: first, previous: nil).cpuPercent == nil)
        let usage = ContainerUsage(b, counters: second, previous: first)
        let cpu = try #require(usage.cpuPercent)
        #expect(cpu > 45 && cpu < 55, "\(cpu)")
        #expect(usage.memoryBytes == 831_488 && usage.pids == 2)
        #expect(usage.networkRxBytesPerSecond == nil)  // --network none: no interfaces, no rates
    }

    @Test("cgroup v2: memory minus inactive_file, summed interfaces, block I/O and CPU rates")
    func dockerCgroupV2() throws {
        let a = try Self.fixture("docker-stats-cgroup2-a")
        let b = try Self.fixture("docker-stats-cgroup2-b")
        let usage = ContainerUsage(b, counters: ContainerCounters(b, takenAt: 30), previous: ContainerCounters(a, takenAt: 0))
        // 30 s of CPU over 120 s of system time on 4 CPUs: 100 %.
        #expect(usage.cpuPercent == 100)
        #expect(usage.memoryBytes == 230_686_720 - 20_971_520)
        #expect(usage.memoryLimitBytes == 1_073_741_824)
        #expect(abs((usage.memoryPercent ?? 0) - 19.53125) < 0.0001)
        #expect(usage.networkRxBytesPerSecond == 100_000 && usage.networkTxBytesPerSecond == 50_000)
        #expect(usage.blockReadBytesPerSecond == Double(4_194_304 - 1_048_576) / 30)
        #expect(usage.blockWriteBytesPerSecond == Double(3_076_096 - 4096) / 30)
        #expect(usage.pids == 8)
    }

    @Test("Podman: zeroed precpu ignored, CPU count from percpu when needed, no inactive_file")
    func podman() throws {
        let sample = try Self.fixture("podman-stats")
        let counters = ContainerCounters(sample, takenAt: 10)
        #expect(counters.onlineCPUs == 2)
        let first = ContainerUsage(sample, counters: counters, previous: nil)
        #expect(first.cpuPercent == nil && first.memoryBytes == 10_485_760 && first.memoryLimitBytes == 2_147_483_648)
        // A counter that went backwards (container restarted) gives no rate rather than nonsense.
        var later = counters
        later.takenAt = 40
        later.rxBytes = 10
        let restarted = ContainerUsage(sample, counters: later, previous: counters)
        #expect(restarted.networkRxBytesPerSecond == nil && restarted.networkTxBytesPerSecond == 0)
    }

    @Test("listings: names without the slash, health from the status, compose project, ports")
    func listings() throws {
        let docker = try Self.fixture("docker-containers", as: [ContainerSummary].self)
        #expect(Set(docker.map(\.name)) == ["talk", "busy1"])
        let podman = try Self.fixture("podman-containers", as: [ContainerSummary].self)
        #expect(podman.map(\.name) == ["db", "old"])
        #expect(podman[0].health == "healthy" && podman[0].composeProject == "homelab")
        #expect(podman[0].ports == [try JSONDecoder().decode(ContainerSummary.Port.self, from: Data(#"{"IP":"127.0.0.1","PrivatePort":5432,"PublicPort":5432,"Type":"tcp"}"#.utf8))])
        #expect(podman[1].health == nil && podman[1].labels.isEmpty && podman[1].ports.isEmpty && podman[1].state == "exited")
        let details = try Self.fixture("docker-inspect", as: ContainerDetails.self)
        #expect(details.name == "busy1" && details.restartCount == 0 && details.state.status == "running" && !details.tty)
        #expect(details.state.pid > 0)
    }

    @Test("a report carries identity and usage side by side; every usage key is there, null when stopped")
    func reportEncoding() throws {
        let podman = try Self.fixture("podman-containers", as: [ContainerSummary].self)
        let a = try Self.fixture("podman-stats")
        var usage = ContainerUsage(a, counters: ContainerCounters(a, takenAt: 0), previous: nil)
        usage.cpuPercent = 12.3456
        usage.source = .engine
        let running = ContainerReport(podman[0], details: nil, usage: usage)
        let stopped = ContainerReport(podman[1], details: nil, usage: nil)
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode([running, stopped])) as? [[String: Any]]
        let (r, s) = (try #require(encoded?[0]), try #require(encoded?[1]))
        #expect(r["name"] as? String == "db" && r["cpu_percent"] as? Double == 12.35 && r["stats_source"] as? String == "engine")
        #expect(r["memory_bytes"] as? UInt64 == usage.memoryBytes)
        let usageKeys = ["cpu_percent", "memory_bytes", "memory_limit_bytes", "memory_percent", "network_rx_bytes_per_second",
                         "network_tx_bytes_per_second", "block_read_bytes_per_second", "block_write_bytes_per_second", "pids", "stats_source"]
        for key in usageKeys + ["id", "state", "labels", "ports", "health"] {
            #expect(s.keys.contains(key), "\(key)")
        }
        #expect(usageKeys.allSatisfy { s[$0] is NSNull })
    }
}
