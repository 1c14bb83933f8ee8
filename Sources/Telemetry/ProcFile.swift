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

        var bytes: [UInt8] = []
        let chunkSize = 64 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, chunkSize) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(file: path, reason: errnoDescription())
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func errnoDescription() -> String {
        String(cString: strerror(errno))
    }
}
