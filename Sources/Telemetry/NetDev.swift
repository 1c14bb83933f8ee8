/// Cumulative byte counters of one interface from /proc/net/dev.
struct InterfaceCounters: Sendable, Equatable {
    /// Interface name.
    var name: String
    /// Bytes received.
    var rxBytes: UInt64
    /// Bytes transmitted.
    var txBytes: UInt64
}

/// Parses /proc/net/dev.
enum NetDev {
    /// Returns every interface in file order, loopback included; `source` names the file in errors.
    static func parse(_ text: String, source: String = "/proc/net/dev") throws(TelemetryError) -> [InterfaceCounters] {
        var interfaces: [InterfaceCounters] = []
        for (offset, line) in text.split(separator: "\n").enumerated() {
            // The two header lines contain '|' and no interface entry does.
            guard !line.contains("|") else { continue }
            // Old kernels print "eth0:123" with no space, so split on the colon rather than whitespace.
            guard let colon = line.lastIndex(of: ":") else {
                throw .malformed(file: source, line: offset + 1, reason: "no ':' after interface name")
            }
            let name = line[..<colon].trimmingSpaces
            let counters = line[line.index(after: colon)...].split(whereSeparator: \.isWhitespace)
            // Receive has 8 columns (bytes first), then transmit starts with bytes.
            guard !name.isEmpty, counters.count >= 9,
                  let rx = UInt64(counters[0]), let tx = UInt64(counters[8]) else {
                throw .malformed(file: source, line: offset + 1, reason: "expected interface name and 16 counters")
            }
            interfaces.append(InterfaceCounters(name: String(name), rxBytes: rx, txBytes: tx))
        }
        return interfaces
    }
}
