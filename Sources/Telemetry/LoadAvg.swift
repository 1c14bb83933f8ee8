/// Parses /proc/loadavg.
enum LoadAvg {
    /// Reads the 1, 5 and 15 minute averages from the first three fields; `source` names the file in errors.
    static func parse(_ text: String, source: String = "/proc/loadavg") throws(TelemetryError) -> HostSnapshot.Load {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 3 else {
            throw .malformed(file: source, line: 1, reason: "expected 3 load averages, found \(fields.count) fields")
        }
        var averages: [Double] = []
        for field in fields.prefix(3) {
            guard let value = Double(field), value >= 0 else {
                throw .malformed(file: source, line: 1, reason: "'\(field)' is not a load average")
            }
            averages.append(value)
        }
        return HostSnapshot.Load(one: averages[0], five: averages[1], fifteen: averages[2])
    }
}
