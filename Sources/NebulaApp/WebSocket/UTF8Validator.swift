import NIOCore

/// Incremental UTF-8 validation (RFC 3629), so a text message split across frames is refused at
/// the first bad byte rather than after the whole message arrived.
struct UTF8Validator {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// False as soon as the bytes seen so far cannot be the start of valid UTF-8.
    mutating func feed(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes where !feed(byte) { return false }
            return true
        }
    }

    /// True when no sequence is left open.
    var isComplete: Bool { needed == 0 }

    private mutating func feed(_ byte: UInt8) -> Bool {
        if needed == 0 {
            switch byte {
            case 0x00...0x7F: return true
            case 0xC2...0xDF: expect(1, 0x80, 0xBF)
            case 0xE0: expect(2, 0xA0, 0xBF)  // no overlong 3-byte forms
            case 0xE1...0xEC, 0xEE...0xEF: expect(2, 0x80, 0xBF)
            case 0xED: expect(2, 0x80, 0x9F)  // no surrogates
            case 0xF0: expect(3, 0x90, 0xBF)  // no overlong 4-byte forms
            case 0xF1...0xF3: expect(3, 0x80, 0xBF)
            case 0xF4: expect(3, 0x80, 0x8F)  // nothing above U+10FFFF
            default: return false
            }
            return true
        }
        guard byte >= lower, byte <= upper else { return false }
        needed -= 1
        lower = 0x80
        upper = 0xBF
        return true
    }

    private mutating func expect(_ count: Int, _ lower: UInt8, _ upper: UInt8) {
        needed = count
        self.lower = lower
        self.upper = upper
    }
}
