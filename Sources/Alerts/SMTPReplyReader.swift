import NIOCore

/// One SMTP reply: a three-digit code and the text of each of its lines.
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]

    var text: String { lines.joined(separator: " ") }
}

/// Reads whole replies (RFC 5321 §4.2: `NNN-text` lines continue, `NNN text` ends) from a
/// connection's inbound bytes, however the network splits them.
struct SMTPReplyReader {
    static let maxLineBytes = 4096
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending = ByteBuffer()

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.inbound = inbound
    }

    mutating func next(during step: String) async throws -> SMTPReply {
        var lines: [String] = []
        while true {
            let line = try await line(during: step)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(decoding: bytes[0..<3], as: UTF8.self)),
                bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-")
            else { throw SMTPError.malformedReply(line) }
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return SMTPReply(code: code, lines: lines) }
        }
    }

    private mutating func line(during step: String) async throws -> String {
        while true {
            if let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - pending.readerIndex
                var line = pending.readString(length: length) ?? ""
                pending.moveReaderIndex(forwardBy: 1)
                if line.hasSuffix("\r") { line.removeLast() }
                return line
            }
            guard pending.readableBytes <= Self.maxLineBytes else {
                throw SMTPError.malformedReply(pending.readString(length: 200) ?? "")
            }
            guard var chunk = try await inbound.next() else { throw SMTPError.closed(step: step) }
            pending.writeBuffer(&chunk)
        }
    }
}
