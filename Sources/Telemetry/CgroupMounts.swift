/// Where the cgroup hierarchies are mounted, from a mountinfo file (`/proc/self/mountinfo`).
///
/// mountinfo rather than /proc/self/mounts because only it says which part of a hierarchy a mount
/// shows (its root), and a cgroup path is relative to the hierarchy's top.
struct CgroupMounts: Sendable, Equatable {
    struct Mount: Sendable, Equatable {
        /// The directory of the hierarchy that is visible at `mountPoint`.
        var root: String
        var mountPoint: String
    }

    /// The unified (v2) hierarchy, if mounted.
    var unified: Mount?
    /// v1 hierarchies by controller name (`memory`, `cpuacct`, `blkio`, `pids`, ...).
    var controllers: [String: Mount]

    /// Parses the text of a mountinfo file; `source` names the file in errors.
    init(parsing text: String, source: String = "/proc/self/mountinfo") throws(TelemetryError) {
        unified = nil
        controllers = [:]
        for (offset, line) in text.split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ")
            // The optional fields end with a lone "-"; the filesystem type, source and super options follow.
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count >= dash + 3 else {
                throw .malformed(file: source, line: offset + 1, reason: "expected mount fields, '-', type, source and options")
            }
            let mount = Mount(root: MountTable.unescape(fields[3]), mountPoint: MountTable.unescape(fields[4]))
            switch fields[dash + 1] {
            case "cgroup2":
                if unified == nil { unified = mount }
            case "cgroup":
                for option in fields[dash + 3].split(separator: ",") where controllers[String(option)] == nil {
                    controllers[String(option)] = mount
                }
            default:
                continue
            }
        }
    }

    /// The same mounts seen from below `root`, where a test tree (or a bind mount of the host's
    /// filesystem) puts them.
    func relocated(under root: String) -> CgroupMounts {
        guard !root.isEmpty else { return self }
        var moved = self
        moved.unified?.mountPoint = root + (unified?.mountPoint ?? "")
        moved.controllers = controllers.mapValues { Mount(root: $0.root, mountPoint: root + $0.mountPoint) }
        return moved
    }

    /// The directory at which `path` (as /proc/PID/cgroup names it) is visible through `mount`, or
    /// nil when this mount does not show that part of the hierarchy.
    static func directory(of path: String, in mount: Mount) -> String? {
        if mount.root == "/" { return mount.mountPoint + (path == "/" ? "" : path) }
        guard path == mount.root || path.hasPrefix(mount.root + "/") else { return nil }
        return mount.mountPoint + path.dropFirst(mount.root.count)
    }
}
