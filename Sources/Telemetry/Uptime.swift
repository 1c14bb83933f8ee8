/// Parses /proc/uptime.
enum Uptime {
    /// Returns seconds since boot (the first field); `source` names the file in errors.
    static func parse(_ text: String, source: String = "/proc/uptime") throws(TelemetryError) -> Double {
        guard let field = text.split(whereSeparator: \.isWhitespace).first else {
            throw .malformed(file: source, line: 1, reason: "file is empty")
        }
        guard let seconds = Double(field), seconds >= 0 else {
            throw .malformed(file: source, line: 1, reason: "'\(field)' is not a number of seconds")
        }
        return seconds
    }
}
