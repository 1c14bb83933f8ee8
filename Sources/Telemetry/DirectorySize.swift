#if canImport(Glibc)
import Glibc
#endif

/// How much a directory tree holds, measured like `du`: allocated blocks (what the disk loses) and
/// apparent sizes, hard links counted once, symbolic links never followed. Unreadable entries are
/// counted, not fatal.
public struct DirectorySize: Sendable, Equatable, Encodable {
    public var diskBytes: UInt64 = 0
    public var apparentBytes: UInt64 = 0
    public var files: Int = 0
    public var directories: Int = 0
    /// Entries that could not be read (permissions, vanished while walking).
    public var errors: Int = 0

    enum CodingKeys: String, CodingKey {
        case diskBytes = "disk_bytes", apparentBytes = "apparent_bytes", files, directories, errors
    }

    public init() {}

    /// Walks `path` iteratively (deep trees cannot overflow the stack). Meant to run off the event
    /// loops: it blocks on the filesystem. Stops early when the task is cancelled.
    public static func measure(_ path: String) throws(TelemetryError) -> DirectorySize {
        var root = stat()
        guard lstat(path, &root) == 0 else {
            throw .unreadable(file: path, reason: String(cString: strerror(errno)))
        }
        var size = DirectorySize()
        var seenLinks = Set<FileIdentity>()
        size.add(root, seenLinks: &seenLinks)
        guard (root.st_mode & S_IFMT) == S_IFDIR else { return size }
        var pending = [path]
        while let directory = pending.popLast() {
            if Task.isCancelled { break }
            guard let handle = opendir(directory) else {
                size.errors += 1
                continue
            }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
                if name == "." || name == ".." { continue }
                let child = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else {
                    size.errors += 1
                    continue
                }
                size.add(info, seenLinks: &seenLinks)
                if (info.st_mode & S_IFMT) == S_IFDIR { pending.append(child) }
            }
        }
        return size
    }

    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private mutating func add(_ info: stat, seenLinks: inout Set<FileIdentity>) {
        let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
        if !isDirectory, info.st_nlink > 1, !seenLinks.insert(FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted {
            return
        }
        if isDirectory { directories += 1 } else { files += 1 }
        diskBytes &+= UInt64(max(0, info.st_blocks)) * 512
        apparentBytes &+= UInt64(max(0, info.st_size))
    }
}
