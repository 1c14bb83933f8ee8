/// The cgroup directories that account for one container, found through its first process.
enum ContainerCgroup: Sendable, Equatable {
    /// cgroup v1 keeps each controller in its own hierarchy.
    case v1(cpuacct: String, memory: String, blkio: String?, pids: String?)
    /// cgroup v2: one directory holds every controller's files.
    case v2(String)

    /// Finds the directories from `/proc/PID/cgroup` text. Throws unless the cgroup is the
    /// container's own (its path names `containerID`): a reused PID must not report another
    /// process's numbers.
    init(membership text: String, mounts: CgroupMounts, containerID: String, source: String) throws(TelemetryError) {
        var v1: [String: String] = [:]
        var unifiedPath: String?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                unifiedPath = path
            } else {
                for controller in fields[1].split(separator: ",") { v1[String(controller)] = path }
            }
        }

        func directory(_ controller: String) -> String? {
            guard let path = v1[controller], let mount = mounts.controllers[controller] else { return nil }
            return CgroupMounts.directory(of: path, in: mount)
        }
        // Hybrid hosts list both; the v1 controllers are the ones that hold the numbers there.
        if let memoryPath = v1["memory"], let memory = directory("memory"), let cpuacct = directory("cpuacct") {
            guard memoryPath.contains(containerID) else {
                throw .malformed(file: source, line: 1, reason: "cgroup \(memoryPath) is not container \(containerID.prefix(12))'s")
            }
            self = .v1(cpuacct: cpuacct, memory: memory, blkio: directory("blkio"), pids: directory("pids"))
        } else if let unifiedPath, let mount = mounts.unified, let directory = CgroupMounts.directory(of: unifiedPath, in: mount) {
            guard unifiedPath.contains(containerID) else {
                throw .malformed(file: source, line: 1, reason: "cgroup \(unifiedPath) is not container \(containerID.prefix(12))'s")
            }
            self = .v2(directory)
        } else {
            throw .missingField(file: source, field: "a mounted memory or unified cgroup")
        }
    }
}
