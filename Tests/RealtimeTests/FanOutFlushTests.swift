import NIOCore
import NIOEmbedded
import Testing
@testable import Realtime

/// Records how each broadcast frame was asked to flush; lives on an embedded loop, so the test
/// decides when the hub's fan-out tasks run.
private final class FlushRecordingTransport: OutboundTransport, @unchecked Sendable {
    let loop: EmbeddedEventLoop
    private(set) var sent: [(offset: UInt64?, flush: FlushTiming?)] = []

    init(loop: EmbeddedEventLoop) { self.loop = loop }

    var eventLoop: (any EventLoop)? { loop }

    func send(_ message: OutboundMessage) {
        sent.append((offset(of: message), nil))
    }

    func send(_ message: OutboundMessage, flush: FlushTiming) {
        sent.append((offset(of: message), flush))
    }

    func close(code: UInt16, reason: String) {}

    private func offset(of message: OutboundMessage) -> UInt64? {
        (try? JSONParser.parse(Array(message.payload.readableBytesView)))?["offset"]?.uint64Value
    }
}

@Suite("Fan-out flush timing")
struct FanOutFlushTests {
    @Test func backlogSaysDeferredWhileMoreBroadcastsWait() {
        let backlog = FanOutBacklog()
        backlog.enqueued()
        backlog.enqueued()
        backlog.enqueued()
        #expect(backlog.started() == .deferred)
        #expect(backlog.started() == .deferred)
        #expect(backlog.started() == .immediate)
        backlog.enqueued()
        #expect(backlog.started() == .immediate)
    }

    @Test func aLoneBroadcastFlushesAtOnceAndQueuedOnesShareTheBatchedFlush() async throws {
        let f = HubFixture()
        let loop = EmbeddedEventLoop()
        let transports = (0..<3).map { _ in FlushRecordingTransport(loop: loop) }
        for (index, transport) in transports.enumerated() {
            let session = Session(id: UInt64(10 + index), principal: .reader, transport: transport)
            await f.send(#"{"id":1,"op":"subscribe","channel":"app.flush"}"#, from: session)
        }
        loop.run()
        let (publisher, _) = f.session(1, .client)

        await f.send(#"{"id":2,"op":"publish","channel":"app.flush","data":1}"#, from: publisher)
        loop.run()
        await f.send(#"{"id":3,"op":"publish","channel":"app.flush","data":2}"#, from: publisher)
        await f.send(#"{"id":4,"op":"publish","channel":"app.flush","data":3}"#, from: publisher)
        loop.run()

        for transport in transports {
            let broadcasts = transport.sent.filter { $0.offset != nil }
            #expect(broadcasts.map(\.offset) == [1, 2, 3])
            #expect(broadcasts.map(\.flush) == [.immediate, .deferred, .immediate])
        }
        try await loop.shutdownGracefully()
    }
}
