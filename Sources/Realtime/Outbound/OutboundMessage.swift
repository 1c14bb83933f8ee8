import NIOCore

/// One server-to-client message, serialized once and shared by every connection it goes to.
///
/// `wireFrame` is the complete unmasked WebSocket text frame, so an uncompressed connection writes
/// the same bytes for every subscriber of a broadcast without framing them again.
public final class OutboundMessage: Sendable {
    public let payload: ByteBuffer
    public let wireFrame: ByteBuffer
    /// Set for latest-value channels: a newer message with the same key replaces a queued older one.
    public let conflationKey: String?

    public init(json: [UInt8], conflationKey: String? = nil) {
        var payload = ByteBufferAllocator().buffer(capacity: json.count)
        payload.writeBytes(json)
        self.payload = payload
        self.wireFrame = WebSocketTextFrame.encode(payload)
        self.conflationKey = conflationKey
    }

    /// Bytes this message holds in a connection's outbound queue.
    public var byteCount: Int { wireFrame.readableBytes }
}

/// RFC 6455 §5.2 framing for the server side: FIN set, opcode text, no mask.
public enum WebSocketTextFrame {
    public static func encode(_ payload: ByteBuffer) -> ByteBuffer {
        let length = payload.readableBytes
        var frame = ByteBufferAllocator().buffer(capacity: length + 10)
        frame.writeInteger(UInt8(0x81))
        if length < 126 {
            frame.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            frame.writeInteger(UInt8(126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeImmutableBuffer(payload)
        return frame
    }
}
