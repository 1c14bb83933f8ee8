import Foundation
import Testing

@testable import Redis

@Suite("RESP through hiredis: replies split anywhere, commands binary-safe")
struct RESPCodecTests {
    static func decode(_ text: String, chunk: Int) throws -> [RESPValue] {
        let reader = RESPReader()
        var values: [RESPValue] = []
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            try bytes[start..<min(start + chunk, bytes.count)].withUnsafeBytes { try reader.feed($0) }
            while let value = try reader.next() { values.append(value) }
        }
        return values
    }

    @Test("every reply type, fed one byte at a time and all at once", arguments: [1, 3, 1000])
    func replies(chunk: Int) throws {
        let wire = "+OK\r\n-ERR wrong type\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*2\r\n:1\r\n$0\r\n\r\n*-1\r\n"
        let values = try Self.decode(wire, chunk: chunk)
        #expect(values == [
            .simpleString("OK"), .error("ERR wrong type"), .integer(-42), .bulkString(Array("he\r\no".utf8)), .null,
            .array([.bulkString(Array("message".utf8)), .bulkString(Array("ch".utf8)), .array([.integer(1), .bulkString([])])]),
            .null,
        ])
    }

    @Test("garbage is a protocol error, not a crash")
    func garbage() {
        #expect(throws: RedisError.self) { _ = try Self.decode("?what\r\n", chunk: 100) }
    }

    @Test("commands are RESP arrays of bulk strings; arguments may hold any byte")
    func commands() {
        #expect(RESPCommand("PING").bytes == Array("*1\r\n$4\r\nPING\r\n".utf8))
        let binary: [UInt8] = [0, 13, 10, 255]
        let set = RESPCommand("SET", [Array("k".utf8), binary])
        #expect(set.bytes == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + binary + Array("\r\n".utf8))
        #expect(RESPCommand("SET", "a", "").bytes == Array("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$0\r\n\r\n".utf8))
    }
}
