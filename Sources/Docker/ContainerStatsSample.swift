/// The parts of `GET /containers/{id}/stats?stream=false&one-shot=true` that Nebula uses. Everything
/// is optional: cgroup v1 and v2, Docker and Podman each leave different fields out.
public struct ContainerStatsSample: Decodable, Sendable, Equatable {
    public struct CPU: Decodable, Sendable, Equatable {
        public struct Usage: Decodable, Sendable, Equatable {
            public let totalUsage: UInt64
            public let perCPUUsage: [UInt64]?

            enum CodingKeys: String, CodingKey { case totalUsage = "total_usage", perCPUUsage = "percpu_usage" }
        }

        public let usage: Usage?
        public let systemUsage: UInt64?
        public let onlineCPUs: Int?

        enum CodingKeys: String, CodingKey { case usage = "cpu_usage", systemUsage = "system_cpu_usage", onlineCPUs = "online_cpus" }
    }

    public struct Memory: Decodable, Sendable, Equatable {
        public let usage: UInt64?
        public let limit: UInt64?
        public let stats: [String: UInt64]?
    }

    public struct Network: Decodable, Sendable, Equatable {
        public let rxBytes: UInt64
        public let txBytes: UInt64

        enum CodingKeys: String, CodingKey { case rxBytes = "rx_bytes", txBytes = "tx_bytes" }
    }

    public struct BlockIO: Decodable, Sendable, Equatable {
        public struct Entry: Decodable, Sendable, Equatable {
            public let op: String
            public let value: UInt64
        }

        public let serviceBytes: [Entry]?

        enum CodingKeys: String, CodingKey { case serviceBytes = "io_service_bytes_recursive" }
    }

    public struct PIDs: Decodable, Sendable, Equatable {
        public let current: Int?
    }

    /// When the engine read the numbers (RFC 3339 with nanoseconds).
    public let read: String?
    public let cpu: CPU?
    public let memory: Memory?
    public let networks: [String: Network]?
    public let blockIO: BlockIO?
    public let pids: PIDs?

    enum CodingKeys: String, CodingKey {
        case read, cpu = "cpu_stats", memory = "memory_stats", networks, blockIO = "blkio_stats", pids = "pids_stats"
    }
}
