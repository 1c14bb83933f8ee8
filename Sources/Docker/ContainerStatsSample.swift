/// The parts of `GET /containers/{id}/stats?stream=false&one-shot=true` that Nebula uses. Everything
/// is optional: cgroup v1 and v2, Docker and Podman each leave different fields out.
public struct ContainerStatsSample: Decodable, Sendable, Equatable {
    public struct CPU: Decodable, Sendable, Equatable {
        public struct Usage: Decodable, Sendable, Equatable {
            public let totalUsage: UInt64
            public let perCPUUsage: [UInt64]?

            public init(totalUsage: UInt64, perCPUUsage: [UInt64]? = nil) {
                self.totalUsage = totalUsage
                self.perCPUUsage = perCPUUsage
            }

            enum CodingKeys: String, CodingKey { case totalUsage = "total_usage", perCPUUsage = "percpu_usage" }
        }

        public let usage: Usage?
        public let systemUsage: UInt64?
        public let onlineCPUs: Int?

        public init(usage: Usage?, systemUsage: UInt64?, onlineCPUs: Int?) {
            self.usage = usage
            self.systemUsage = systemUsage
            self.onlineCPUs = onlineCPUs
        }

        enum CodingKeys: String, CodingKey { case usage = "cpu_usage", systemUsage = "system_cpu_usage", onlineCPUs = "online_cpus" }
    }

    public struct Memory: Decodable, Sendable, Equatable {
        public let usage: UInt64?
        public let limit: UInt64?
        public let stats: [String: UInt64]?

        public init(usage: UInt64?, limit: UInt64?, stats: [String: UInt64]?) {
            self.usage = usage
            self.limit = limit
            self.stats = stats
        }
    }

    public struct Network: Decodable, Sendable, Equatable {
        public let rxBytes: UInt64
        public let txBytes: UInt64

        public init(rxBytes: UInt64, txBytes: UInt64) {
            self.rxBytes = rxBytes
            self.txBytes = txBytes
        }

        enum CodingKeys: String, CodingKey { case rxBytes = "rx_bytes", txBytes = "tx_bytes" }
    }

    public struct BlockIO: Decodable, Sendable, Equatable {
        public struct Entry: Decodable, Sendable, Equatable {
            public let op: String
            public let value: UInt64

            public init(op: String, value: UInt64) {
                self.op = op
                self.value = value
            }
        }

        public let serviceBytes: [Entry]?

        public init(serviceBytes: [Entry]?) { self.serviceBytes = serviceBytes }

        enum CodingKeys: String, CodingKey { case serviceBytes = "io_service_bytes_recursive" }
    }

    public struct PIDs: Decodable, Sendable, Equatable {
        public let current: Int?

        public init(current: Int?) { self.current = current }
    }

    /// When the engine read the numbers (RFC 3339 with nanoseconds).
    public let read: String?
    public let cpu: CPU?
    public let memory: Memory?
    public let networks: [String: Network]?
    public let blockIO: BlockIO?
    public let pids: PIDs?

    public init(read: String? = nil, cpu: CPU?, memory: Memory?, networks: [String: Network]?, blockIO: BlockIO?, pids: PIDs?) {
        self.read = read
        self.cpu = cpu
        self.memory = memory
        self.networks = networks
        self.blockIO = blockIO
        self.pids = pids
    }

    enum CodingKeys: String, CodingKey {
        case read, cpu = "cpu_stats", memory = "memory_stats", networks, blockIO = "blkio_stats", pids = "pids_stats"
    }
}
