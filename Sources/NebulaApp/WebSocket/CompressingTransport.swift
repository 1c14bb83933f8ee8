import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Realtime
@_spi(WSInternal) import WSCore

/// Transport of connections that negotiated permessage-deflate. Compression keeps one deflate
/// stream per connection inside the WebSocket handler, so messages are written through its
/// async writer by one task per connection. The queue in front of it has the same rules as the
/// direct path: bounded in bytes, latest-value conflation, 4008 on ordered overflow.
final class CompressingTransport: OutboundTransport {
    private struct State {
        var queue: OutboundQueue
        var waiter: CheckedContinuation<OutboundMessage?, Never>?
        var closed = false
    }

    private let state: NIOLockedValueBox<State>
    private let handler: NIOLoopBound<ConnectionHandler>
    private let loop: any EventLoop
    private let metrics: RealtimeMetrics

    init(handler: NIOLoopBound<ConnectionHandler>, eventLoop: any EventLoop, maxQueueBytes: Int, metrics: RealtimeMetrics) {
        self.state = NIOLockedValueBox(State(queue: OutboundQueue(limit: maxQueueBytes)))
        self.handler = handler
        self.loop = eventLoop
        self.metrics = metrics
    }

    var eventLoop: (any EventLoop)? { loop }

    func send(_ message: OutboundMessage) {
        enum Action { case none, resume(CheckedContinuation<OutboundMessage?, Never>), overflow }
        let action: Action = state.withLockedValue { state in
            guard !state.closed else { return .none }
            if let waiter = state.waiter {
                state.waiter = nil
                return .resume(waiter)
            }
            let before = state.queue.bytes
            defer { metrics.queueBytes.increment(by: Int64(state.queue.bytes - before)) }
            switch state.queue.enqueue(message) {
            case .queued: return .none
            case .conflated: metrics.conflated.increment(); return .none
            case .dropped: metrics.dropped.increment(); return .none
            case .overflow:
                state.closed = true
                metrics.queueBytes.decrement(by: Int64(state.queue.bytes))
                state.queue.removeAll()
                return .overflow
            }
        }
        switch action {
        case .none: break
        case .resume(let waiter): waiter.resume(returning: message)
        case .overflow:
            metrics.slowConsumerCloses.increment()
            close(code: CloseCode.slowConsumer, reason: "slow consumer")
        }
    }

    func close(code: UInt16, reason: String) {
        let handler = self.handler
        loop.execute { handler.value.sendClose(code: code, reason: reason) }
        finish()
    }

    /// Writes queued messages until the connection ends. Runs as the connection's writer task.
    func runWriter(_ outbound: WebSocketOutboundWriter) async {
        while let message = await next() {
            do {
                try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: message.payload)))
                metrics.messagesOut.increment()
            } catch {
                finish()
                return
            }
        }
    }

    /// Stops the writer; queued messages are dropped.
    func finish() {
        let waiter: CheckedContinuation<OutboundMessage?, Never>? = state.withLockedValue { state in
            state.closed = true
            metrics.queueBytes.decrement(by: Int64(state.queue.bytes))
            state.queue.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    private func next() async -> OutboundMessage? {
        await withCheckedContinuation { continuation in
            let ready: OutboundMessage?? = state.withLockedValue { state in
                if state.closed { return .some(nil) }
                let before = state.queue.bytes
                if let message = state.queue.popFirst() {
                    metrics.queueBytes.increment(by: Int64(state.queue.bytes - before))
                    return .some(message)
                }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
