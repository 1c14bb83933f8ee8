/// `GET /system/df`: what images, containers, volumes and the build cache take on disk. The engine
/// computes volume sizes by walking them, so this call is slow and runs on the storage schedule.
public struct DiskUsage: Decodable, Sendable, Equatable {
    public struct Volume: Decodable, Sendable, Equatable {
        public let name: String
        /// -1 when the engine could not size it.
        public let size: Int64

        enum CodingKeys: String, CodingKey { case name = "Name", usage = "UsageData" }
        enum UsageKeys: String, CodingKey { case size = "Size" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            size = (try? c.nestedContainer(keyedBy: UsageKeys.self, forKey: .usage).decodeIfPresent(Int64.self, forKey: .size)) ?? -1
        }
    }

    public let imagesBytes: Int64
    public let containersBytes: Int64
    public let buildCacheBytes: Int64
    public let volumes: [Volume]
    /// Images without a tag that no container uses (what `docker image prune` removes).
    public let danglingImages: Int
    public let danglingImagesBytes: Int64

    enum CodingKeys: String, CodingKey {
        case layersSize = "LayersSize", containers = "Containers", buildCache = "BuildCache", volumes = "Volumes", images = "Images"
    }
    private struct Image: Decodable {
        let repoTags: [String]?
        let containers: Int?
        let size: Int64?
        enum CodingKeys: String, CodingKey { case repoTags = "RepoTags", containers = "Containers", size = "Size" }
        var isDangling: Bool { (repoTags ?? []).allSatisfy { $0 == "<none>:<none>" } && (containers ?? 0) <= 0 }
    }
    private struct Sized: Decodable {
        let size: Int64?
        enum CodingKeys: String, CodingKey { case sizeRw = "SizeRw", size = "Size" }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            size = try c.decodeIfPresent(Int64.self, forKey: .sizeRw) ?? c.decodeIfPresent(Int64.self, forKey: .size)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imagesBytes = try c.decodeIfPresent(Int64.self, forKey: .layersSize) ?? 0
        containersBytes = (try c.decodeIfPresent([Sized].self, forKey: .containers) ?? []).reduce(0) { $0 + max(0, $1.size ?? 0) }
        buildCacheBytes = (try c.decodeIfPresent([Sized].self, forKey: .buildCache) ?? []).reduce(0) { $0 + max(0, $1.size ?? 0) }
        volumes = try c.decodeIfPresent([Volume].self, forKey: .volumes) ?? []
        let dangling = (try? c.decodeIfPresent([Image].self, forKey: .images))??.filter(\.isDangling) ?? []
        danglingImages = dangling.count
        danglingImagesBytes = dangling.reduce(0) { $0 + max(0, $1.size ?? 0) }
    }

    public var volumesBytes: Int64 { volumes.reduce(0) { $0 + max(0, $1.size) } }
}
