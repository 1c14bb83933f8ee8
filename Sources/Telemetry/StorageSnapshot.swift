/// What the `storage` channel carries: every filesystem's capacity (refreshed each telemetry
/// interval), the sizes of the directories the owner named and Docker's disk use (refreshed on the
/// slower storage schedule, hourly by default).
public struct StorageSnapshot: Sendable, Encodable {
    public struct Directory: Sendable, Encodable, Equatable {
        public var name: String
        public var path: String
        /// nil until the first scan finished.
        public var size: DirectorySize?
        public var error: String?
        /// Unix milliseconds of the scan that produced `size`.
        public var scannedAt: Int64?
        public var scanMilliseconds: Int?

        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }

        enum CodingKeys: String, CodingKey {
            case name, path, size, error, scannedAt = "scanned_at", scanMilliseconds = "scan_ms"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(path, forKey: .path)
            try c.encode(size, forKey: .size)
            try c.encode(error, forKey: .error)
            try c.encode(scannedAt, forKey: .scannedAt)
            try c.encode(scanMilliseconds, forKey: .scanMilliseconds)
        }
    }

    public struct Docker: Sendable, Encodable, Equatable {
        public struct Volume: Sendable, Encodable, Equatable {
            public var name: String
            public var bytes: Int64?

            public init(name: String, bytes: Int64?) {
                self.name = name
                self.bytes = bytes
            }
        }

        public var imagesBytes: Int64
        public var containersBytes: Int64
        public var volumesBytes: Int64
        public var buildCacheBytes: Int64
        /// Untagged images no container uses: what pruning dangling images would free.
        public var danglingImages: Int
        public var danglingImagesBytes: Int64
        public var volumes: [Volume]
        public var scannedAt: Int64

        public init(
            imagesBytes: Int64, containersBytes: Int64, volumesBytes: Int64, buildCacheBytes: Int64, danglingImages: Int = 0,
            danglingImagesBytes: Int64 = 0, volumes: [Volume], scannedAt: Int64
        ) {
            self.imagesBytes = imagesBytes
            self.containersBytes = containersBytes
            self.volumesBytes = volumesBytes
            self.buildCacheBytes = buildCacheBytes
            self.danglingImages = danglingImages
            self.danglingImagesBytes = danglingImagesBytes
            self.volumes = volumes
            self.scannedAt = scannedAt
        }

        enum CodingKeys: String, CodingKey {
            case imagesBytes = "images_bytes", containersBytes = "containers_bytes", volumesBytes = "volumes_bytes"
            case buildCacheBytes = "build_cache_bytes", danglingImages = "dangling_images", danglingImagesBytes = "dangling_images_bytes"
            case volumes, scannedAt = "scanned_at"
        }
    }

    public var filesystems: [HostSnapshot.Filesystem]
    public var directories: [Directory]
    /// nil without a reachable engine.
    public var docker: Docker?
    public var updatedAt: Int64

    public init(filesystems: [HostSnapshot.Filesystem], directories: [Directory], docker: Docker?, updatedAt: Int64) {
        self.filesystems = filesystems
        self.directories = directories
        self.docker = docker
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey { case filesystems, directories, docker, updatedAt = "updated_at" }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(filesystems, forKey: .filesystems)
        try c.encode(directories, forKey: .directories)
        try c.encode(docker, forKey: .docker)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}
