/// From what size Jarvis proposes maintenance (`--maintenance-build-cache`, `--maintenance-dangling-images`,
/// `--maintenance-log-size`).
public struct MaintenanceThresholds: Sendable {
    /// Docker's build cache at or above this: prune it.
    public var buildCacheBytes: Int64 = 1 << 30
    /// Dangling images taking at least this much: prune them.
    public var danglingImagesBytes: Int64 = 512 << 20
    /// A log file in a `--log-dir` at or above this: rotate it.
    public var logBytes: Int64 = 100 << 20

    public init() {}
}
