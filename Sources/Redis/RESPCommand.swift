import CHiredis

/// A command as RESP bytes, formatted by hiredis (binary-safe arguments).
public struct RESPCommand: Sendable, Equatable {
    public let name: String
    public let bytes: [UInt8]

    public init(_ name: String, _ arguments: [[UInt8]] = []) {
        self.name = name
        let parts = [Array(name.utf8)] + arguments
        var formatted: UnsafeMutablePointer<CChar>?
        let length = Self.withPointers(parts) { pointers, lengths in
            redisFormatCommandArgv(&formatted, Int32(parts.count), pointers, lengths)
        }
        if let formatted, length > 0 {
            bytes = Array(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
            redisFreeCommand(formatted)
        } else {
            bytes = []
        }
    }

    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments.map { Array($0.utf8) })
    }

    /// Hands hiredis an argv of pointers into `parts`, valid for the duration of `body`.
    private static func withPointers<R>(
        _ parts: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let buffers = parts.map { part -> UnsafeMutableRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, part.count), alignment: 1)
            buffer.copyBytes(from: part)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        let lengths = parts.map(\.count)
        return pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { body(argv.baseAddress!, $0.baseAddress!) }
        }
    }
}
