import Testing
@testable import Jarvis

@Suite("Server-sent event decoder")
struct ServerSentEventDecoderTests {
    /// A stream shaped like OpenAI's: a comment keep-alive, CRLF and LF line ends, a multi-line
    /// event, an id and retry, and `[DONE]`.
    private let stream = Array(
        (": keep-alive\r\n\r\n"
            + "data: {\"a\":1}\r\n\r\n"
            + "event: note\nid: 7\nretry: 1500\ndata: line one\ndata:line two\n\n"
            + "data: héllo ✓\r\r"
            + "data: [DONE]\n\n").utf8)

    private let expected = [
        ServerSentEvent(data: "{\"a\":1}"),
        ServerSentEvent(type: "note", data: "line one\nline two", lastEventID: "7", retry: 1500),
        ServerSentEvent(data: "héllo ✓", lastEventID: "7", retry: 1500),
        ServerSentEvent(data: "[DONE]", lastEventID: "7", retry: 1500),
    ]

    @Test func wholeStreamAtOnce() throws {
        var decoder = ServerSentEventDecoder()
        var events = try decoder.feed(stream)
        events += try decoder.finish()
        #expect(events == expected)
    }

    @Test func splitAtEveryPossiblePlace() throws {
        // Every split point, including between CR and LF and inside the UTF-8 of "é" and "✓".
        for split in 0...stream.count {
            var decoder = ServerSentEventDecoder()
            var events = try decoder.feed(stream[..<split])
            events += try decoder.feed(stream[split...])
            events += try decoder.finish()
            #expect(events == expected, "split at \(split)")
        }
    }

    @Test func oneByteAtATime() throws {
        var decoder = ServerSentEventDecoder()
        var events: [ServerSentEvent] = []
        for byte in stream { events += try decoder.feed([byte]) }
        events += try decoder.finish()
        #expect(events == expected)
    }

    @Test func byteOrderMarkAtTheStartIsSkipped() throws {
        var decoder = ServerSentEventDecoder()
        let events = try decoder.feed([0xEF, 0xBB, 0xBF] + Array("data: x\n\n".utf8))
        #expect(events == [ServerSentEvent(data: "x")])
    }

    @Test func eventsWithoutDataAreNotDispatchedAndUnknownFieldsIgnored() throws {
        var decoder = ServerSentEventDecoder()
        let events = try decoder.feed(Array("event: ping\n\nfoo: bar\ndata\n\n: c\n\n".utf8))
        // `data` with no colon is a data field with an empty value.
        #expect(events == [ServerSentEvent(data: "")])
    }

    @Test func lastEventWithoutBlankLineIsDeliveredAtTheEnd() throws {
        var decoder = ServerSentEventDecoder()
        #expect(try decoder.feed(Array("data: {\"b\":2}".utf8)).isEmpty)
        #expect(try decoder.finish() == [ServerSentEvent(data: "{\"b\":2}")])
    }

    @Test func oversizedLineIsRefused() {
        var decoder = ServerSentEventDecoder(maxEventBytes: 64)
        #expect(throws: ServerSentEventError.eventTooLarge(limit: 64)) {
            _ = try decoder.feed(Array(("data: " + String(repeating: "x", count: 100)).utf8))
        }
    }

    @Test func oversizedEventAcrossManyLinesIsRefused() {
        var decoder = ServerSentEventDecoder(maxEventBytes: 64)
        let lines = String(repeating: "data: 0123456789\n", count: 10)
        #expect(throws: ServerSentEventError.eventTooLarge(limit: 64)) {
            _ = try decoder.feed(Array(lines.utf8))
        }
    }
}
