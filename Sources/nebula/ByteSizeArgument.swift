import ArgumentParser

/// A positive size on the command line: plain bytes (`1048576`, `100b`) or with a unit in powers of
/// 1024 — `k`, `m`, `g`, `t`, optionally followed by `i` and `b`, any case (`512MiB`, `1G`, `100mb`,
/// `1.5GiB`), as Docker and `du -h` count.
struct ByteSizeArgument: ExpressibleByArgument, Sendable {
    let bytes: Int64

    private static let units: [(suffixes: [String], scale: Double)] = [
        (["tib", "tb", "t"], 1_099_511_627_776), (["gib", "gb", "g"], 1_073_741_824), (["mib", "mb", "m"], 1_048_576),
        (["kib", "kb", "k"], 1024), (["b"], 1),
    ]

    init(bytes: Int64) {
        self.bytes = bytes
    }

    init?(argument: String) {
        let text = argument.lowercased().filter { $0 != " " }
        var number = Substring(text)
        var scale = 1.0
        search: for unit in Self.units {
            for suffix in unit.suffixes where text.hasSuffix(suffix) {
                number = text.dropLast(suffix.count)
                scale = unit.scale
                break search
            }
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        let bytes = (value * scale).rounded()
        guard bytes >= 1, bytes < 9e18 else { return nil }
        self.bytes = Int64(bytes)
    }

    var defaultValueDescription: String {
        for (name, size) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return "\(bytes)"
    }
}
