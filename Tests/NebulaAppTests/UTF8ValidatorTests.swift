import NIOCore
import Testing

@testable import NebulaApp

@Suite("UTF8Validator")
struct UTF8ValidatorTests {
    private func validate(_ bytes: [UInt8], splitAt cuts: [Int] = []) -> Bool {
        var validator = UTF8Validator()
        var start = 0
        for cut in cuts + [bytes.count] {
            guard validator.feed(ByteBuffer(bytes: bytes[start..<cut])) else { return false }
            start = cut
        }
        return validator.isComplete
    }

    @Test("valid text, whole and split anywhere")
    func valid() {
        let text = Array("héllo κόσμε 😀 \u{10FFFF} end".utf8)
        #expect(validate(text))
        for cut in 0...text.count {
            #expect(validate(text, splitAt: [cut]), "split at \(cut)")
        }
    }

    @Test("invalid sequences are refused", arguments: [
        [0x80],  // lone continuation
        [0xC0, 0xAF],  // overlong
        [0xE0, 0x80, 0xAF],  // overlong 3-byte
        [0xED, 0xA0, 0x80],  // surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xF5, 0x80, 0x80, 0x80],
        [0xFF],
        [0xCE, 0xBA, 0xE1],  // truncated at the end
    ] as [[UInt8]])
    func invalid(bytes: [UInt8]) {
        #expect(!validate(bytes))
    }

    @Test("fails at the first bad byte, before the message ends")
    func failsFast() {
        var validator = UTF8Validator()
        let goodStart = validator.feed(ByteBuffer(bytes: Array("κόσμε".utf8)))
        let badNext = validator.feed(ByteBuffer(bytes: [0xED, 0xA0, 0x80]))
        #expect(goodStart)
        #expect(!badNext)
    }

    @Test("agrees with the standard library on random bytes")
    func agreesWithStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(validate(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }
}
