import Logging

/// Capacity of every real mounted filesystem, as `df` shows it: for the host snapshot and the
/// storage page.
public enum Filesystems {
    public static func measure(mountsPath: String = "/proc/self/mounts", logger: Logger) throws(TelemetryError) -> [HostSnapshot.Filesystem] {
        let entries = try MountTable.parse(ProcFile.contents(of: mountsPath), source: mountsPath)
        return MountTable.realFilesystems(entries).compactMap { entry in
            let usage: FilesystemUsage
            do {
                usage = try FilesystemUsage(path: entry.mountPoint)
            } catch {
                // One stale or forbidden mount must not blank the whole dashboard.
                logger.debug("skipping filesystem", metadata: ["mount": "\(entry.mountPoint)", "error": "\(error)"])
                return nil
            }
            // Zero-sized filesystems are pseudo mounts that slipped through the type filter; df hides them too.
            guard usage.totalBytes > 0 else { return nil }
            return HostSnapshot.Filesystem(
                mount: entry.mountPoint, device: entry.device, fsType: entry.fsType,
                totalBytes: usage.totalBytes, usedBytes: usage.usedBytes,
                availableBytes: usage.availableBytes, usedPercent: usage.usedPercent
            )
        }
    }
}
