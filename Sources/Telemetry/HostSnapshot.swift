/// One point-in-time view of the host, as sent to dashboard clients.
///
/// Coding keys are spelled out rather than derived with a key strategy so the
/// wire format cannot change by accident when a Swift property is renamed.
public struct HostSnapshot: Codable, Sendable, Equatable {
    /// Wall-clock time of the sample in milliseconds since the Unix epoch.
    public var timestampMs: Int64
    /// The host's name as reported by `gethostname(2)`.
    public var hostname: String
    /// Seconds since boot.
    public var uptimeSeconds: Double
    /// CPU utilisation since the previous sample.
    public var cpu: CPU
    /// Run-queue load averages.
    public var load: Load
    /// Physical memory usage.
    public var memory: Memory
    /// Swap usage.
    public var swap: Swap
    /// Per-interface throughput, including loopback.
    public var network: [NetworkInterface]
    /// Per-device throughput for whole block devices.
    public var disks: [Disk]
    /// Capacity of mounted real filesystems.
    public var filesystems: [Filesystem]

    /// Creates a snapshot from its parts.
    public init(
        timestampMs: Int64, hostname: String, uptimeSeconds: Double, cpu: CPU, load: Load,
        memory: Memory, swap: Swap, network: [NetworkInterface], disks: [Disk], filesystems: [Filesystem]
    ) {
        self.timestampMs = timestampMs
        self.hostname = hostname
        self.uptimeSeconds = uptimeSeconds
        self.cpu = cpu
        self.load = load
        self.memory = memory
        self.swap = swap
        self.network = network
        self.disks = disks
        self.filesystems = filesystems
    }

    enum CodingKeys: String, CodingKey {
        case timestampMs = "timestamp_ms"
        case hostname
        case uptimeSeconds = "uptime_seconds"
        case cpu, load, memory, swap, network, disks, filesystems
    }
}

extension HostSnapshot {
    /// CPU busy percentages over the interval since the previous sample.
    public struct CPU: Codable, Sendable, Equatable {
        /// Busy percentage across all cores (0...100).
        public var totalPercent: Double
        /// Busy percentage of each core, ordered by core number.
        public var perCorePercent: [Double]
        /// Number of cores listed in /proc/stat.
        public var cores: Int

        /// Creates CPU usage figures.
        public init(totalPercent: Double, perCorePercent: [Double], cores: Int) {
            self.totalPercent = totalPercent
            self.perCorePercent = perCorePercent
            self.cores = cores
        }

        enum CodingKeys: String, CodingKey {
            case totalPercent = "total_percent"
            case perCorePercent = "per_core_percent"
            case cores
        }
    }

    /// Load averages over 1, 5 and 15 minutes.
    public struct Load: Codable, Sendable, Equatable {
        /// One-minute load average.
        public var one: Double
        /// Five-minute load average.
        public var five: Double
        /// Fifteen-minute load average.
        public var fifteen: Double

        /// Creates load averages.
        public init(one: Double, five: Double, fifteen: Double) {
            self.one = one
            self.five = five
            self.fifteen = fifteen
        }
    }

    /// Physical memory figures in bytes.
    public struct Memory: Codable, Sendable, Equatable {
        /// MemTotal.
        public var totalBytes: UInt64
        /// MemAvailable: memory usable without swapping.
        public var availableBytes: UInt64
        /// Total minus available.
        public var usedBytes: UInt64
        /// MemFree: memory not used for anything, not even cache.
        public var freeBytes: UInt64
        /// Buffers.
        public var buffersBytes: UInt64
        /// Cached (page cache).
        public var cachedBytes: UInt64
        /// Used as a percentage of total.
        public var usedPercent: Double

        /// Creates memory figures.
        public init(
            totalBytes: UInt64, availableBytes: UInt64, usedBytes: UInt64, freeBytes: UInt64,
            buffersBytes: UInt64, cachedBytes: UInt64, usedPercent: Double
        ) {
            self.totalBytes = totalBytes
            self.availableBytes = availableBytes
            self.usedBytes = usedBytes
            self.freeBytes = freeBytes
            self.buffersBytes = buffersBytes
            self.cachedBytes = cachedBytes
            self.usedPercent = usedPercent
        }

        enum CodingKeys: String, CodingKey {
            case totalBytes = "total_bytes"
            case availableBytes = "available_bytes"
            case usedBytes = "used_bytes"
            case freeBytes = "free_bytes"
            case buffersBytes = "buffers_bytes"
            case cachedBytes = "cached_bytes"
            case usedPercent = "used_percent"
        }
    }

    /// Swap figures in bytes.
    public struct Swap: Codable, Sendable, Equatable {
        /// SwapTotal.
        public var totalBytes: UInt64
        /// Total minus free.
        public var usedBytes: UInt64
        /// SwapFree.
        public var freeBytes: UInt64
        /// Used as a percentage of total; 0 when there is no swap.
        public var usedPercent: Double

        /// Creates swap figures.
        public init(totalBytes: UInt64, usedBytes: UInt64, freeBytes: UInt64, usedPercent: Double) {
            self.totalBytes = totalBytes
            self.usedBytes = usedBytes
            self.freeBytes = freeBytes
            self.usedPercent = usedPercent
        }

        enum CodingKeys: String, CodingKey {
            case totalBytes = "total_bytes"
            case usedBytes = "used_bytes"
            case freeBytes = "free_bytes"
            case usedPercent = "used_percent"
        }
    }

    /// Throughput of one network interface.
    public struct NetworkInterface: Codable, Sendable, Equatable {
        /// Interface name, e.g. `eth0`.
        public var interface: String
        /// Received bytes per second since the previous sample.
        public var rxBytesPerSec: Double
        /// Transmitted bytes per second since the previous sample.
        public var txBytesPerSec: Double
        /// Received bytes since the counter was last reset.
        public var rxBytesTotal: UInt64
        /// Transmitted bytes since the counter was last reset.
        public var txBytesTotal: UInt64

        /// Whether this is the loopback interface, so a dashboard can hide it.
        ///
        /// Derived rather than stored so the JSON keeps exactly the agreed keys.
        public var isLoopback: Bool { interface == "lo" }

        /// Creates interface figures.
        public init(interface: String, rxBytesPerSec: Double, txBytesPerSec: Double, rxBytesTotal: UInt64, txBytesTotal: UInt64) {
            self.interface = interface
            self.rxBytesPerSec = rxBytesPerSec
            self.txBytesPerSec = txBytesPerSec
            self.rxBytesTotal = rxBytesTotal
            self.txBytesTotal = txBytesTotal
        }

        enum CodingKeys: String, CodingKey {
            case interface
            case rxBytesPerSec = "rx_bytes_per_sec"
            case txBytesPerSec = "tx_bytes_per_sec"
            case rxBytesTotal = "rx_bytes_total"
            case txBytesTotal = "tx_bytes_total"
        }
    }

    /// Throughput of one whole block device.
    public struct Disk: Codable, Sendable, Equatable {
        /// Kernel device name, e.g. `vda`, `nvme0n1`.
        public var device: String
        /// Bytes read per second since the previous sample.
        public var readBytesPerSec: Double
        /// Bytes written per second since the previous sample.
        public var writeBytesPerSec: Double
        /// Bytes read since boot.
        public var readBytesTotal: UInt64
        /// Bytes written since boot.
        public var writeBytesTotal: UInt64

        /// Creates disk figures.
        public init(device: String, readBytesPerSec: Double, writeBytesPerSec: Double, readBytesTotal: UInt64, writeBytesTotal: UInt64) {
            self.device = device
            self.readBytesPerSec = readBytesPerSec
            self.writeBytesPerSec = writeBytesPerSec
            self.readBytesTotal = readBytesTotal
            self.writeBytesTotal = writeBytesTotal
        }

        enum CodingKeys: String, CodingKey {
            case device
            case readBytesPerSec = "read_bytes_per_sec"
            case writeBytesPerSec = "write_bytes_per_sec"
            case readBytesTotal = "read_bytes_total"
            case writeBytesTotal = "write_bytes_total"
        }
    }

    /// Capacity of one mounted filesystem, computed the way `df` does.
    public struct Filesystem: Codable, Sendable, Equatable {
        /// Mount point.
        public var mount: String
        /// Source device as listed in the mount table.
        public var device: String
        /// Filesystem type, e.g. `ext4`.
        public var fsType: String
        /// Size of the filesystem.
        public var totalBytes: UInt64
        /// Blocks in use, including those reserved for root.
        public var usedBytes: UInt64
        /// Space available to unprivileged users.
        public var availableBytes: UInt64
        /// used / (used + available), as `df` reports it.
        public var usedPercent: Double

        /// Creates filesystem figures.
        public init(
            mount: String, device: String, fsType: String, totalBytes: UInt64,
            usedBytes: UInt64, availableBytes: UInt64, usedPercent: Double
        ) {
            self.mount = mount
            self.device = device
            self.fsType = fsType
            self.totalBytes = totalBytes
            self.usedBytes = usedBytes
            self.availableBytes = availableBytes
            self.usedPercent = usedPercent
        }

        enum CodingKeys: String, CodingKey {
            case mount, device
            case fsType = "fs_type"
            case totalBytes = "total_bytes"
            case usedBytes = "used_bytes"
            case availableBytes = "available_bytes"
            case usedPercent = "used_percent"
        }
    }
}
