/// The memory and swap figures from /proc/meminfo, in bytes.
struct MemInfo: Sendable, Equatable {
    /// MemTotal.
    var total: UInt64
    /// MemFree.
    var free: UInt64
    /// MemAvailable.
    var available: UInt64
    /// Buffers.
    var buffers: UInt64
    /// Cached.
    var cached: UInt64
    /// SwapTotal.
    var swapTotal: UInt64
    /// SwapFree.
    var swapFree: UInt64

    /// Parses the text of /proc/meminfo; every field above must be present. `source` names the file in errors.
    init(parsing text: String, source: String = "/proc/meminfo") throws(TelemetryError) {
        var values: [Substring: UInt64] = [:]
        for (offset, line) in text.split(separator: "\n").enumerated() {
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformed(file: source, line: offset + 1, reason: "no ':' separator")
            }
            let key = line[..<colon]
            guard Self.wanted.contains(key) else { continue }
            values[key] = try Self.bytes(line[line.index(after: colon)...], source: source, line: offset + 1)
        }

        func require(_ key: Substring) throws(TelemetryError) -> UInt64 {
            guard let value = values[key] else { throw .missingField(file: source, field: String(key)) }
            return value
        }
        total = try require("MemTotal")
        free = try require("MemFree")
        available = try require("MemAvailable")
        buffers = try require("Buffers")
        cached = try require("Cached")
        swapTotal = try require("SwapTotal")
        swapFree = try require("SwapFree")
    }

    private static let wanted: Set<Substring> = [
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree",
    ]

    /// Converts a value such as `  24684096 kB`; the kernel's "kB" means KiB.
    private static func bytes(_ value: Substring, source: String, line: Int) throws(TelemetryError) -> UInt64 {
        let parts = value.split(whereSeparator: \.isWhitespace)
        guard let number = parts.first.flatMap({ UInt64($0) }) else {
            throw .malformed(file: source, line: line, reason: "'\(value.trimmingSpaces)' is not a size")
        }
        switch parts.dropFirst().first {
        case nil: return number
        case "kB": return number * 1024
        case let unit?: throw .malformed(file: source, line: line, reason: "unknown unit '\(unit)'")
        }
    }
}
