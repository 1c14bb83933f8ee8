import Foundation
import NIOCore
import Testing
@testable import Realtime

/// An `OutboundTransport` that records every message, decoded back from its JSON payload.
/// No event loop, so the hub delivers synchronously on the publishing thread.
final class RecordingTransport: OutboundTransport, @unchecked Sendable {
    struct Record {
        let text: String
        let json: JSONValue?
        let conflationKey: String?
    }

    private let lock = NSLock()
    private var _records: [Record] = []
    private var _closes: [(code: UInt16, reason: String)] = []

    var eventLoop: (any EventLoop)? { nil }

    func send(_ message: OutboundMessage) {
        let bytes = Array(message.payload.readableBytesView)
        let record = Record(
            text: String(decoding: bytes, as: UTF8.self),
            json: try? JSONParser.parse(bytes),
            conflationKey: message.conflationKey
        )
        lock.withLock { _records.append(record) }
    }

    func close(code: UInt16, reason: String) {
        lock.withLock { _closes.append((code, reason)) }
    }

    var records: [Record] { lock.withLock { _records } }
    var closes: [(code: UInt16, reason: String)] { lock.withLock { _closes } }

    /// Every message as JSON; a payload that is not valid JSON shows up as a marker string so that
    /// exact comparisons fail.
    var messages: [JSONValue] { records.map { $0.json ?? .string("INVALID JSON: \($0.text)") } }

    /// Replies: frames with an `id` member.
    var replies: [JSONValue] { messages.filter { $0["id"] != nil } }

    /// Publications: frames without an `id` member.
    var publications: [JSONValue] { messages.filter { $0["id"] == nil } }

    func publicationOffsets(channel: String) -> [UInt64] {
        publications.filter { $0["channel"]?.stringValue == channel }.compactMap { $0["offset"]?.uint64Value }
    }

    func replies(id: Int64) -> [JSONValue] {
        replies.filter { $0["id"]?.int64Value == id }
    }
}

extension JSONValue {
    var uint64Value: UInt64? {
        if case .number(let text) = self { return UInt64(text) }
        return nil
    }
}

/// Parses test JSON; invalid test input is a test bug and fails loudly.
func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
    do {
        return try JSONParser.parse(text)
    } catch {
        Issue.record("test JSON does not parse: \(error)", sourceLocation: sourceLocation)
        throw error
    }
}

extension Principal {
    /// A typical API key: read and publish, not the server.
    static let client = Principal(id: "client", scopes: [.read, .publish])
    static let reader = Principal(id: "reader", scopes: [.read])
    static let nobody = Principal(id: "nobody", scopes: [])
}

/// A hub over an in-process broker whose epochs are predictable ("ep" for every channel).
struct HubFixture {
    let hub: Hub
    let broker: InProcessBroker
    let dispatcher: CommandDispatcher

    init(registry: ChannelRegistry = .standard, limits: Hub.Limits = Hub.Limits(), epoch: String = "ep") {
        broker = InProcessBroker(makeEpoch: { epoch })
        hub = Hub(registry: registry, broker: broker, limits: limits)
        dispatcher = CommandDispatcher(hub: hub)
    }

    func session(_ id: UInt64, _ principal: Principal = .client) -> (Session, RecordingTransport) {
        let transport = RecordingTransport()
        return (Session(id: id, principal: principal, transport: transport), transport)
    }

    func send(_ frame: String, from session: Session) async {
        await dispatcher.handle(Array(frame.utf8), from: session)
    }

    /// Current top offset of a channel according to the broker (0 when it has no state yet).
    func top(_ channel: String) async -> UInt64 {
        await broker.channels()[channel]?.offset ?? 0
    }
}

/// Registry whose `app.*` family keeps a long history, so recovery during a long race always succeeds.
let longHistoryRegistry = ChannelRegistry(
    families: [
        ChannelFamily(
            .prefix("app."),
            ChannelPolicy(delivery: .ordered, historySize: 1_000_000, historyTTL: nil, subscribe: .read, publish: .publish)
        )
    ],
    reserved: []
)

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}
