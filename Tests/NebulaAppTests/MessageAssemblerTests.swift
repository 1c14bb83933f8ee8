import NIOCore
import NIOWebSocket
import Realtime
import Testing

@testable import NebulaApp

@Suite("MessageAssembler")
struct MessageAssemblerTests {
    private func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
        WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, data: ByteBuffer(bytes: bytes))
    }

    private func text(_ string: String, fin: Bool = true) -> WebSocketFrame {
        frame(.text, Array(string.utf8), fin: fin)
    }

    @Test("a single text frame is a message")
    func singleFrame() {
        var assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(text("{\"id\":1}")) == .text(ByteBuffer(string: "{\"id\":1}")))
    }

    @Test("fragments are joined, with control frames between them")
    func fragments() {
        var assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(text("hel", fin: false)) == .none)
        #expect(assembler.receive(frame(.ping, [1, 2])) == .ping(ByteBuffer(bytes: [1, 2])))
        #expect(assembler.receive(frame(.continuation, Array("lo ".utf8), fin: false)) == .none)
        #expect(assembler.receive(frame(.continuation, Array("world".utf8))) == .text(ByteBuffer(string: "hello world")))
        #expect(assembler.receive(frame(.binary, [0, 255])) == .binary(ByteBuffer(bytes: [0, 255])))
    }

    @Test("a multi-byte character split across fragments is accepted")
    func splitCharacter() {
        var assembler = MessageAssembler(maxMessageSize: 1024)
        let bytes = Array("κ".utf8)
        #expect(assembler.receive(frame(.text, [bytes[0]], fin: false)) == .none)
        #expect(assembler.receive(frame(.continuation, [bytes[1]])) == .text(ByteBuffer(bytes: bytes)))
    }

    @Test("protocol violations fail with the RFC code")
    func violations() {
        var assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.continuation, [1])) == .fail(CloseCode.protocolError, "continuation without a message"))

        assembler = MessageAssembler(maxMessageSize: 1024)
        _ = assembler.receive(text("a", fin: false))
        #expect(assembler.receive(text("b")) == .fail(CloseCode.protocolError, "new message before the last one ended"))

        assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, [0x61], rsv1: true)) == .fail(CloseCode.protocolError, "reserved bits set without an extension"))

        assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(frame(WebSocketOpcode(encodedWebSocketOpcode: 3)!, [])) == .fail(CloseCode.protocolError, "reserved opcode"))
    }

    @Test("invalid UTF-8 fails at the fragment that carries it")
    func invalidUTF8FailsFast() {
        var assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(text("ok", fin: false)) == .none)
        #expect(assembler.receive(frame(.continuation, [0xED, 0xA0, 0x80], fin: false)) == .fail(CloseCode.invalidPayload, "text message is not valid UTF-8"))

        assembler = MessageAssembler(maxMessageSize: 1024)
        #expect(assembler.receive(frame(.text, [0xCE])) == .fail(CloseCode.invalidPayload, "text message is not valid UTF-8"))
    }

    @Test("a message over the limit fails with 1009")
    func tooBig() {
        var assembler = MessageAssembler(maxMessageSize: 10)
        #expect(assembler.receive(text("123456", fin: false)) == .none)
        #expect(assembler.receive(frame(.continuation, Array("7890".utf8), fin: false)) == .none)
        #expect(assembler.receive(frame(.continuation, [0x31])) == .fail(CloseCode.messageTooBig, "message over 10 bytes"))
    }

    @Test("close frames: empty, valid code, invalid code, bad reason, one byte")
    func closeFrames() {
        #expect(MessageAssembler.close(ByteBuffer()) == .close(nil))
        var body = ByteBuffer()
        body.writeInteger(UInt16(1000))
        body.writeString("bye")
        #expect(MessageAssembler.close(body) == .close(1000))
        for code: UInt16 in [3000, 4999, 1011] {
            var b = ByteBuffer()
            b.writeInteger(code)
            #expect(MessageAssembler.close(b) == .close(code))
        }
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 2999, 5000] {
            var b = ByteBuffer()
            b.writeInteger(code)
            #expect(MessageAssembler.close(b) == .fail(CloseCode.protocolError, "invalid close code \(code)"))
        }
        var badReason = ByteBuffer()
        badReason.writeInteger(UInt16(1000))
        badReason.writeBytes([0xFF])
        #expect(MessageAssembler.close(badReason) == .fail(CloseCode.protocolError, "close reason is not valid UTF-8"))
        #expect(MessageAssembler.close(ByteBuffer(bytes: [3])) == .fail(CloseCode.protocolError, "close frame with a 1-byte body"))
    }
}
