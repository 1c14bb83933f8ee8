/// A line a container wrote.
public struct LogLine: Sendable, Equatable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public let stream: Stream
    public let text: String

    public init(stream: Stream, text: String) {
        self.stream = stream
        self.text = text
    }
}

/// Turns the bytes of `GET /containers/{id}/logs` into lines, fed in chunks split anywhere.
/// Without a TTY the engine frames each write with an 8-byte header (stream, 3 zero bytes, big-endian
/// length); with a TTY the bytes are raw. Partial lines are kept until their newline arrives.
public struct LogStreamDecoder: Sendable {
    /// A line longer than this is cut, so a container printing without newlines cannot grow memory.
    public static let maxLineBytes = 16 * 1024

    let tty: Bool
    private var pending: [UInt8] = []
    private var partial: [LogLine.Stream: [UInt8]] = [:]

    public init(tty: Bool) {
        self.tty = tty
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [LogLine] {
        var lines: [LogLine] = []
        if tty {
            append(Array(bytes), to: .stdout, into: &lines)
            return lines
        }
        pending.append(contentsOf: bytes)
        var offset = 0
        while pending.count - offset >= 8 {
            let header = pending[offset..<offset + 8]
            let length = header.dropFirst(4).reduce(0) { $0 << 8 | Int($1) }
            guard pending.count - offset - 8 >= length else { break }
            let stream: LogLine.Stream = header[header.startIndex] == 2 ? .stderr : .stdout
            append(Array(pending[offset + 8..<offset + 8 + length]), to: stream, into: &lines)
            offset += 8 + length
        }
        pending.removeFirst(offset)
        return lines
    }

    /// What is left when the stream ends: unterminated last lines.
    public mutating func finish() -> [LogLine] {
        var lines: [LogLine] = []
        for stream in [LogLine.Stream.stdout, .stderr] {
            if let rest = partial[stream], !rest.isEmpty { lines.append(LogLine(stream: stream, text: Self.text(rest))) }
        }
        partial = [:]
        return lines
    }

    private mutating func append(_ bytes: [UInt8], to stream: LogLine.Stream, into lines: inout [LogLine]) {
        var buffer = partial[stream] ?? []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(LogLine(stream: stream, text: Self.text(buffer)))
                buffer.removeAll(keepingCapacity: true)
            } else if buffer.count < Self.maxLineBytes {
                buffer.append(byte)
            }
        }
        partial[stream] = buffer
    }

    private static func text(_ bytes: [UInt8]) -> String {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
