import NIOCore
import NIOWebSocket
import Realtime

/// RFC 6455 receive rules for connections served on the event loop: joins fragments into
/// messages, validates UTF-8 and close frames, and says when the peer broke the protocol.
/// Frame size is already bounded by the frame decoder; this bounds whole messages.
struct MessageAssembler {
    enum Output: Equatable {
        case none
        case text(ByteBuffer)
        case binary(ByteBuffer)
        case ping(ByteBuffer)
        /// The peer closed; answer with this code (nil: an empty close, answered with 1000).
        case close(UInt16?)
        /// The peer broke the protocol: close with this code.
        case fail(UInt16, String)
    }

    let maxMessageSize: Int
    private var fragments: ByteBuffer?
    private var fragmentOpcode: WebSocketOpcode = .text
    private var utf8 = UTF8Validator()

    init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
    }

    mutating func receive(_ frame: WebSocketFrame) -> Output {
        guard frame.rsv1 == false, frame.rsv2 == false, frame.rsv3 == false else {
            return .fail(CloseCode.protocolError, "reserved bits set without an extension")
        }
        switch frame.opcode {
        case .ping:
            return .ping(frame.unmaskedData)
        case .pong:
            return .none
        case .connectionClose:
            return Self.close(frame.unmaskedData)
        case .text, .binary:
            guard fragments == nil else { return .fail(CloseCode.protocolError, "new message before the last one ended") }
            let data = frame.unmaskedData
            if frame.opcode == .text {
                utf8 = UTF8Validator()
                guard utf8.feed(data) else { return .fail(CloseCode.invalidPayload, "text message is not valid UTF-8") }
            }
            if frame.fin { return complete(frame.opcode, data) }
            fragments = data
            fragmentOpcode = frame.opcode
            return .none
        case .continuation:
            guard var buffer = fragments else { return .fail(CloseCode.protocolError, "continuation without a message") }
            guard buffer.readableBytes + frame.length <= maxMessageSize else {
                fragments = nil
                return .fail(CloseCode.messageTooBig, "message over \(maxMessageSize) bytes")
            }
            fragments = nil  // keeps the buffer uniquely referenced while appending
            var data = frame.unmaskedData
            if fragmentOpcode == .text, !utf8.feed(data) {
                return .fail(CloseCode.invalidPayload, "text message is not valid UTF-8")
            }
            buffer.writeBuffer(&data)
            if frame.fin { return complete(fragmentOpcode, buffer) }
            fragments = buffer
            return .none
        default:
            return .fail(CloseCode.protocolError, "reserved opcode")
        }
    }

    /// Text was validated frame by frame; here only an unfinished last sequence can remain.
    private func complete(_ opcode: WebSocketOpcode, _ data: ByteBuffer) -> Output {
        guard opcode == .text else { return .binary(data) }
        guard utf8.isComplete else { return .fail(CloseCode.invalidPayload, "text message is not valid UTF-8") }
        return .text(data)
    }

    /// RFC 6455 §5.5.1 and §7.4: a close body is empty, or a valid code plus UTF-8 reason.
    static func close(_ data: ByteBuffer) -> Output {
        var data = data
        guard data.readableBytes > 0 else { return .close(nil) }
        guard let code = data.readInteger(as: UInt16.self) else { return .fail(CloseCode.protocolError, "close frame with a 1-byte body") }
        let valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011].contains(Int(code)) || (3000...4999).contains(code)
        guard valid else { return .fail(CloseCode.protocolError, "invalid close code \(code)") }
        var reason = UTF8Validator()
        guard reason.feed(data), reason.isComplete else {
            return .fail(CloseCode.protocolError, "close reason is not valid UTF-8")
        }
        return .close(code)
    }
}
