import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import Realtime

/// Transport of uncompressed connections: messages go to the connection's `ConnectionHandler` on
/// its event loop and are written from there, with no task hop per message.
///
/// Messages sent from other threads (command replies) and on the loop (broadcast fan-out) pass
/// through one inbox, so they reach the socket in the order `send` was called.
final class DirectTransport: OutboundTransport {
    private struct Inbox {
        var messages = Deque<OutboundMessage>()
        var drainScheduled = false
    }

    private let handler: NIOLoopBound<ConnectionHandler>
    private let inbox = NIOLockedValueBox(Inbox())
    let loop: any EventLoop

    init(handler: NIOLoopBound<ConnectionHandler>, eventLoop: any EventLoop) {
        self.handler = handler
        self.loop = eventLoop
    }

    var eventLoop: (any EventLoop)? { loop }

    func send(_ message: OutboundMessage) {
        send(message, flush: .deferred)
    }

    func send(_ message: OutboundMessage, flush: FlushTiming) {
        // Fast path for broadcasts: on the loop with nothing waiting from other threads, the
        // message can go straight to the handler without changing the order of anything.
        if loop.inEventLoop, inbox.withLockedValue({ $0.messages.isEmpty }) {
            handler.value.enqueue(message, flush: flush)
            return
        }
        let mustSchedule = inbox.withLockedValue { inbox in
            inbox.messages.append(message)
            defer { inbox.drainScheduled = true }
            return !inbox.drainScheduled
        }
        if loop.inEventLoop {
            drain()
        } else if mustSchedule {
            loop.execute { self.drain() }
        }
    }

    func close(code: UInt16, reason: String) {
        loop.execute {
            self.drain()
            self.handler.value.sendClose(code: code, reason: reason)
        }
    }

    private func drain() {
        let messages = inbox.withLockedValue { inbox in
            inbox.drainScheduled = false
            defer { inbox.messages.removeAll(keepingCapacity: true) }
            return inbox.messages
        }
        for message in messages { handler.value.enqueue(message) }
    }
}
