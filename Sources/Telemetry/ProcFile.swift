#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads small kernel-generated text files such as those under /proc.
enum ProcFile {
    /// Returns the whole file as text, or throws `TelemetryError.unreadable`.
    ///
    /// Reads until EOF with plain `read(2)` rather than trusting the file size:
    /// /proc files report a size of 0, and errno gives a precise reason on failure.
    static func contents(of path: String) throws(TelemetryError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: path, reason: errnoDescription()) }
        defer { close(fd) }

        // Most of these files are a few hundred bytes and are read thousands of times an hour (a
        // cgroup file per container per sample): one small stack buffer, no zeroed heap chunk.
        var bytes: [UInt8] = []
        let chunkSize = 4096
        let failure: Int32? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunkSize) { chunk in
            while true {
                let count = read(fd, chunk.baseAddress, chunkSize)
                if count == 0 { return nil }
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                bytes.append(contentsOf: chunk[0..<count])
            }
        }
        if let failure { throw .unreadable(file: path, reason: String(cString: strerror(failure))) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }
}
