import Testing

@testable import NebulaApp

@Suite("Log line timestamps")
struct LogTimestampTests {
    @Test("RFC 3339 with trimmed nanoseconds compares as time, not text; since keeps nanoseconds")
    func parse() throws {
        let (a, text) = LogTimestamp.split("2026-11-22T00:32:58.3067867Z hello world")
        let first = try #require(a)
        #expect(text == "hello world")
        #expect(first.nanoseconds == 306_786_700 && first.sinceParameter.hasSuffix(".306786700"))
        let later = try #require(LogTimestamp("2026-11-22T00:32:58.31Z"))
        #expect(first < later)  // text order would say otherwise ("3067867" > "31")
        #expect(try #require(LogTimestamp("2026-11-22T00:32:58Z")) < first)
        #expect(LogTimestamp.split("no timestamp here").0 == nil)
        #expect(LogTimestamp("2026-11-22T00:32:58.12xZ") == nil)
    }
}
