/// Cumulative transfer counters of one block device from /proc/diskstats.
struct DiskCounters: Sendable, Equatable {
    /// Kernel device name.
    var name: String
    /// Bytes read since boot.
    var readBytes: UInt64
    /// Bytes written since boot.
    var writeBytes: UInt64
}

/// Parses /proc/diskstats.
enum DiskStats {
    /// diskstats always counts in 512-byte sectors, whatever the device's real sector size.
    static let sectorSize: UInt64 = 512

    /// Returns every listed device, partitions included; `source` names the file in errors.
    static func parse(_ text: String, source: String = "/proc/diskstats") throws(TelemetryError) -> [DiskCounters] {
        var devices: [DiskCounters] = []
        for (offset, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            // major minor name reads merged sectors_read ms writes merged sectors_written ...
            guard fields.count >= 10,
                  let sectorsRead = UInt64(fields[5]), let sectorsWritten = UInt64(fields[9]) else {
                throw .malformed(file: source, line: offset + 1, reason: "expected device name and at least 7 counters")
            }
            devices.append(DiskCounters(
                name: String(fields[2]),
                readBytes: sectorsRead &* sectorSize,
                writeBytes: sectorsWritten &* sectorSize
            ))
        }
        return devices
    }
}
