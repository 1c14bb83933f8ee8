/// The CPU counters from /proc/stat: the aggregate `cpu` line and one `cpuN` line per core.
struct ProcStat: Sendable, Equatable {
    /// Sum over all cores.
    var aggregate: CPUTimes
    /// Per-core counters keyed by core number. Offline cores are absent, so
    /// numbers rather than positions identify a core across samples.
    var cores: [Int: CPUTimes]

    /// Parses the text of /proc/stat; `source` names the file in errors.
    init(parsing text: String, source: String = "/proc/stat") throws(TelemetryError) {
        var aggregate: CPUTimes?
        var cores: [Int: CPUTimes] = [:]

        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let label = fields.first, label.hasPrefix("cpu") else { continue }
            let lineNumber = offset + 1
            let times = try Self.parseTimes(fields.dropFirst(), source: source, line: lineNumber)
            if label == "cpu" {
                aggregate = times
            } else if let index = Int(label.dropFirst(3)) {
                cores[index] = times
            } else {
                throw .malformed(file: source, line: lineNumber, reason: "unexpected label '\(label)'")
            }
        }

        guard let aggregate else { throw .missingField(file: source, field: "cpu") }
        self.aggregate = aggregate
        self.cores = cores
    }

    private static func parseTimes(
        _ fields: ArraySlice<Substring>, source: String, line: Int
    ) throws(TelemetryError) -> CPUTimes {
        // Kernels before 2.6.11 list fewer columns; the first four have always existed.
        guard fields.count >= 4 else {
            throw .malformed(file: source, line: line, reason: "expected at least 4 counters, found \(fields.count)")
        }
        var values: [UInt64] = []
        for field in fields.prefix(8) {
            guard let value = UInt64(field) else {
                throw .malformed(file: source, line: line, reason: "'\(field)' is not a counter")
            }
            values.append(value)
        }
        values += Array(repeating: 0, count: 8 - values.count)
        return CPUTimes(
            user: values[0], nice: values[1], system: values[2], idle: values[3],
            iowait: values[4], irq: values[5], softirq: values[6], steal: values[7]
        )
    }
}
