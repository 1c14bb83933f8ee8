import Testing

@testable import Realtime

/// Whatever a client sends, decoding ends in a command or a typed error — never a crash.
@Suite("Decoding hostile input")
struct DecodeRobustnessTests {
    static let seeds = [
        #"{"id": 1, "op": "subscribe", "channel": "app.x", "since": {"epoch": "e", "offset": 3}}"#,
        #"{"id": 2, "op": "publish", "channel": "app.x", "data": {"a": [1, 2.5e3, "\u00e9", null, true]}}"#,
        #"{"id": 3, "op": "history", "channel": "app.x", "limit": 10}"#,
    ]

    @Test("random mutations of valid commands")
    func mutations() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var bytes = Array(Self.seeds.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            do {
                let command = try ClientCommand.decode(bytes)
                #expect(command.id >= Int64.min)
            } catch {
                #expect(!error.error.message.isEmpty)
            }
        }
    }

    @Test("deep nesting and huge numbers are refused or kept exactly")
    func extremes() throws {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(throws: CommandDecodingError.self) { try ClientCommand.decode(Array(deep.utf8)) }
        let bigNumber = #"{"id": 99999999999999999999999, "op": "ping"}"#
        #expect(throws: CommandDecodingError.self) { try ClientCommand.decode(Array(bigNumber.utf8)) }
        let exact = #"{"id": 1, "op": "publish", "channel": "app.x", "data": 123456789012345678901234567890.5e-7}"#
        let command = try ClientCommand.decode(Array(exact.utf8))
        #expect(command.operation == .publish(channel: "app.x", data: .number("123456789012345678901234567890.5e-7")))
    }
}
