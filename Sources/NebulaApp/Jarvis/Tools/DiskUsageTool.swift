import Foundation
import Jarvis
import Realtime
import Telemetry

/// `disk_usage`: filesystem capacity, the sizes of the watched directories and what Docker keeps on disk.
struct DiskUsageTool: JarvisTool {
    let storage: StorageService

    let name = "disk_usage"
    let description = """
        Disk usage: each filesystem's size and how full it is, the size of each watched directory, and \
        Docker's images, containers, volumes and build cache.
        """
    let tier = ToolTier.diagnose
    var parameters: JSONValue { ToolSchema.object([]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let snapshot = storage.snapshot
        guard !snapshot.filesystems.isEmpty || !snapshot.directories.isEmpty else {
            throw ToolError(.failed, "no storage sample yet; the first one is taken within one telemetry interval of the server starting")
        }
        let directories: [JSONValue] = snapshot.directories.map { directory in
            .object([
                ("name", .string(directory.name)), ("path", .string(directory.path)),
                ("disk_bytes", .optional(directory.size?.diskBytes)), ("files", .optional(directory.size?.files)),
                ("error", .optional(directory.error)),
            ])
        }
        let docker: JSONValue = snapshot.docker.map { docker in
            .object([
                ("images_bytes", .number(docker.imagesBytes)), ("containers_bytes", .number(docker.containersBytes)),
                ("volumes_bytes", .number(docker.volumesBytes)), ("build_cache_bytes", .number(docker.buildCacheBytes)),
            ])
        } ?? .null
        return .object([
            ("filesystems", .array(snapshot.filesystems.map(HostMetricsTool.filesystem))),
            ("directories", .array(directories)),
            ("docker", docker),
        ])
    }
}
