/// One event of a `text/event-stream` (WHATWG HTML §9.2).
public struct ServerSentEvent: Equatable, Sendable {
    /// The `event:` field; "message" when the stream did not name one.
    public var type: String
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen so far in the stream, if any.
    public var lastEventID: String?
    /// The last valid `retry:` (milliseconds) seen so far, if any.
    public var retry: Int?

    public init(type: String = "message", data: String, lastEventID: String? = nil, retry: Int? = nil) {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
        self.retry = retry
    }
}

public enum ServerSentEventError: Error, Equatable, CustomStringConvertible {
    /// A single line or event grew past the decoder's limit: the peer is not sending an event stream
    /// a chat provider would send, and buffering it would only grow memory.
    case eventTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .eventTooLarge(let limit): "server-sent event larger than \(limit) bytes"
        }
    }
}
