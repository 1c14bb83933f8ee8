import NIOCore

/// Where a session's outbound messages go: a WebSocket connection in the server, a recorder in tests.
///
/// `send` never blocks and never waits for the peer: the transport queues (see `OutboundQueue`)
/// and disconnects a peer that cannot keep up.
public protocol OutboundTransport: AnyObject, Sendable {
    /// The event loop the connection lives on, so a broadcast can hand each loop its subscribers in
    /// one task. nil when the transport has no loop affinity.
    var eventLoop: (any EventLoop)? { get }
    func send(_ message: OutboundMessage)
    /// A broadcast frame; `.immediate` allows writing it to the socket at once (see `FanOutBacklog`).
    func send(_ message: OutboundMessage, flush: FlushTiming)
    func close(code: UInt16, reason: String)
}

/// When a broadcast frame should reach the socket.
public enum FlushTiming: Sendable {
    /// With the loop's next batched flush, together with whatever else is written before it.
    case deferred
    /// Right after it is written: nothing else for this connection is coming in the same pass.
    case immediate
}

extension OutboundTransport {
    public func send(_ message: OutboundMessage, flush: FlushTiming) {
        send(message)
    }
}

/// WebSocket close codes the server uses (RFC 6455 §7.4 and the private range).
public enum CloseCode {
    public static let normal: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let invalidPayload: UInt16 = 1007
    public static let messageTooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011
    public static let slowConsumer: UInt16 = 4008
    public static let credentialsRevoked: UInt16 = 4003
}
