#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Capacity figures for a mounted filesystem obtained from `statvfs(3)`.
struct FilesystemUsage: Sendable, Equatable {
    /// Size of the filesystem in bytes.
    var totalBytes: UInt64
    /// Bytes in use, including blocks reserved for root.
    var usedBytes: UInt64
    /// Bytes available to unprivileged users.
    var availableBytes: UInt64

    /// used / (used + available) like `df`, so root-reserved blocks do not make a full disk look 95% used.
    var usedPercent: Double {
        Percent.of(usedBytes, in: usedBytes + availableBytes)
    }

    /// Queries the filesystem mounted at `path`.
    init(path: String) throws(TelemetryError) {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            throw .unreadable(file: path, reason: "statvfs: \(String(cString: strerror(errno)))")
        }
        let blockSize = UInt64(stats.f_frsize)
        totalBytes = UInt64(stats.f_blocks) * blockSize
        usedBytes = UInt64(stats.f_blocks).subtractingClamped(UInt64(stats.f_bfree)) * blockSize
        availableBytes = UInt64(stats.f_bavail) * blockSize
    }
}
