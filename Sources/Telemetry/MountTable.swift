/// One line of a mount table such as /proc/self/mounts.
struct MountEntry: Sendable, Equatable {
    /// Mount source, e.g. `/dev/vda` or `server:/export`.
    var device: String
    /// Where it is mounted.
    var mountPoint: String
    /// Filesystem type, e.g. `ext4`.
    var fsType: String
}

/// Parses a mount table and picks out the filesystems worth reporting.
enum MountTable {
    /// Kernel and in-memory filesystems: they hold no user data worth a capacity gauge.
    static let pseudoTypes: Set<String> = [
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
        "devtmpfs", "efivarfs", "fusectl", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal",
        "hugetlbfs", "mqueue", "nsfs", "overlay", "proc", "pstore", "ramfs", "rpc_pipefs",
        "securityfs", "selinuxfs", "squashfs", "sysfs", "tmpfs", "tracefs",
    ]

    /// Parses every entry; `source` names the file in errors.
    static func parse(_ text: String, source: String = "/proc/self/mounts") throws(TelemetryError) -> [MountEntry] {
        var entries: [MountEntry] = []
        for (offset, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            guard fields.count >= 3 else {
                throw .malformed(file: source, line: offset + 1, reason: "expected device, mount point and type")
            }
            entries.append(MountEntry(
                device: unescape(fields[0]),
                mountPoint: unescape(fields[1]),
                fsType: String(fields[2])
            ))
        }
        return entries
    }

    /// Drops pseudo filesystems and keeps only the first mount of each device,
    /// so bind mounts and btrfs subvolumes are not counted twice.
    static func realFilesystems(_ entries: [MountEntry]) -> [MountEntry] {
        var seenDevices: Set<String> = []
        return entries.filter { entry in
            !pseudoTypes.contains(entry.fsType) && seenDevices.insert(entry.device).inserted
        }
    }

    /// Decodes the octal escapes (`\040` for space, etc.) the kernel uses for
    /// characters that would break the whitespace-separated format.
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = field.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let code = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(code)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
