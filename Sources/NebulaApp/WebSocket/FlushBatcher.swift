import NIOConcurrencyHelpers
import NIOCore

/// Defers socket flushes on one event loop to the end of the work already queued on it.
///
/// A broadcast writes to every subscriber on the loop without flushing, then one task flushes
/// them all. When the loop falls behind, several broadcasts are queued before that task runs, so
/// each connection gets their frames in one write: the cost per delivery drops exactly when it
/// has to, and a loop that keeps up pays no added latency.
final class FlushBatcher {
    private let eventLoop: any EventLoop
    private var pending: [ConnectionHandler] = []
    private var scheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Must be called on the batcher's event loop.
    func needsFlush(_ handler: ConnectionHandler) {
        pending.append(handler)
        guard !scheduled else { return }
        scheduled = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.flushAll() }
    }

    private func flushAll() {
        scheduled = false
        let handlers = pending
        pending.removeAll(keepingCapacity: true)
        for handler in handlers { handler.flushNow() }
    }
}

/// One `FlushBatcher` per event loop, shared by all connections on it.
final class FlushBatchers: Sendable {
    private let batchers = NIOLockedValueBox([ObjectIdentifier: NIOLoopBound<FlushBatcher>]())

    /// The batcher of `eventLoop`; call on that loop.
    func batcher(for eventLoop: any EventLoop) -> FlushBatcher {
        let key = ObjectIdentifier(eventLoop)
        return batchers.withLockedValue { batchers in
            if let existing = batchers[key] { return existing.value }
            let batcher = FlushBatcher(eventLoop: eventLoop)
            batchers[key] = NIOLoopBound(batcher, eventLoop: eventLoop)
            return batcher
        }
    }
}

/// First handler of an upgraded pipeline: gives the connection handler a context that writes
/// already-framed bytes straight to the socket, past the frame encoder, so a broadcast frame
/// serialized once is written as-is to every subscriber.
final class RawFrameWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }
}
