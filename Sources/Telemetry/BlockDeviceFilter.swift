#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides which /proc/diskstats entries are whole, physical-ish block devices.
struct BlockDeviceFilter: Sendable {
    /// Root of the sysfs tree, injectable so tests can fake devices.
    var sysRoot: String

    /// Memory-backed devices: their traffic is not disk I/O and would only add noise.
    static let virtualPrefixes = ["loop", "ram", "zram"]

    /// True if `name` is a whole device (not a partition) and not loop/ram backed.
    ///
    /// Only whole devices appear in /sys/block, which is more reliable than guessing
    /// from names (`sda1` is a partition, but `nvme0n1` is a whole disk).
    func includes(_ name: String) -> Bool {
        if Self.virtualPrefixes.contains(where: name.hasPrefix) { return false }
        // Names with '/' (e.g. cciss/c0d0) appear in sysfs with '!' instead.
        let sysName = String(name.map { $0 == "/" ? "!" : $0 })
        return access("\(sysRoot)/block/\(sysName)", F_OK) == 0
    }
}
