/// Incremental `text/event-stream` parser: feed it the body's bytes as they arrive, in chunks split
/// anywhere (inside a line, a CRLF pair, or a UTF-8 sequence), and it returns the events completed
/// so far.
///
/// Follows the WHATWG parsing rules: lines end with CRLF, LF or CR; a line starting with ":" is a
/// comment; `field: value` loses one leading space of the value; unknown fields are ignored; a blank
/// line dispatches the event, and an event without data is not dispatched. A leading UTF-8 BOM is
/// skipped.
public struct ServerSentEventDecoder: Sendable {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var lastEventID: String?
    private var retry: Int?
    private var previousWasCR = false
    private var atStart = true
    private let maxEventBytes: Int

    /// - Parameter maxEventBytes: the most one line or one event's data may hold.
    public init(maxEventBytes: Int = 1 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ServerSentEventError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            switch byte {
            case 0x0A:  // LF, or the second half of CRLF
                if previousWasCR {
                    previousWasCR = false
                    continue
                }
                try endLine(into: &events)
            case 0x0D:  // CR
                previousWasCR = true
                try endLine(into: &events)
            default:
                previousWasCR = false
                line.append(byte)
                if atStart, line.count == 3 {
                    atStart = false
                    if line == [0xEF, 0xBB, 0xBF] { line.removeAll(keepingCapacity: true) }
                }
                guard line.count <= maxEventBytes else { throw .eventTooLarge(limit: maxEventBytes) }
            }
        }
        return events
    }

    /// The stream ended. A last event whose blank line never came is dispatched when it has data —
    /// some servers close right after their final `data:` line, and dropping it would lose the
    /// answer's end.
    public mutating func finish() throws(ServerSentEventError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        if !line.isEmpty { try endLine(into: &events) }
        if hasData { try endLine(into: &events) }
        return events
    }

    private mutating func endLine(into events: inout [ServerSentEvent]) throws(ServerSentEventError) {
        atStart = false
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == 0x3A { return }  // ":" comment (keep-alives)
        let colon = line.firstIndex(of: 0x3A)
        let name = colon.map { Array(line[..<$0]) } ?? line
        var valueStart = colon.map { $0 + 1 } ?? line.count
        if valueStart < line.count, line[valueStart] == 0x20 { valueStart += 1 }
        let value = line[valueStart...]
        switch name {
        case Array("data".utf8):
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
            guard data.count <= maxEventBytes else { throw .eventTooLarge(limit: maxEventBytes) }
        case Array("event".utf8):
            eventType = String(decoding: value, as: UTF8.self)
        case Array("id".utf8):
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        case Array("retry".utf8):
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        default:
            break
        }
    }

    private mutating func dispatch(into events: inout [ServerSentEvent]) {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
        }
        guard hasData else { return }
        if data.last == 0x0A { data.removeLast() }
        events.append(
            ServerSentEvent(
                type: eventType.isEmpty ? "message" : eventType,
                data: String(decoding: data, as: UTF8.self),
                lastEventID: lastEventID,
                retry: retry
            ))
    }
}
