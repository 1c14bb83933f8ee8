import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Realtime

/// Sits between the WebSocket codec and the async channel of every upgraded connection, on its
/// event loop. It owns what must never wait on an async task: the outbound queue of uncompressed
/// connections (written straight from the loop, bounded in bytes, with conflation), liveness
/// (pings, and closing peers that went silent), and close ordering (nothing is written after a
/// close frame).
final class ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Configuration: Sendable {
        var pingInterval: TimeAmount
        var maxQueueBytes: Int
        /// How long a peer gets to answer our close frame before the socket is closed under it.
        var closeGrace: TimeAmount = .seconds(3)
    }

    private let configuration: Configuration
    private let metrics: RealtimeMetrics
    private var context: ChannelHandlerContext?
    private var queue: OutboundQueue
    private var heardSinceLastPing = true
    private var missedPings = 0
    private var pingTask: RepeatedTask?
    private var closeSent = false
    private var queuedBytesReported = 0

    init(configuration: Configuration, metrics: RealtimeMetrics) {
        self.configuration = configuration
        self.metrics = metrics
        self.queue = OutboundQueue(limit: configuration.maxQueueBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // Keep the kernel from buffering megabytes for a stalled peer: backpressure must reach
        // the outbound queue soon, where latest-value messages are conflated and overflow is seen.
        _ = context.channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: 64 * 1024)
        let interval = configuration.pingInterval
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBound.value.heartbeat()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pingTask = nil
        dropQueue()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pingTask = nil
        dropQueue()
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSinceLastPing = true
        missedPings = 0
        let frame = unwrapInboundIn(data)
        // RFC 6455 §5.1: a server must close the connection on an unmasked client frame.
        guard frame.maskKey != nil else {
            sendClose(code: CloseCode.protocolError, reason: "client frames must be masked")
            return
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Outbound written by the WebSocket handler (replies on compressed sessions, pongs, its close)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        guard !closeSent else {
            // After a close frame nothing else may be sent; the writer learns it succeeded so it never stalls.
            promise?.succeed()
            return
        }
        if frame.opcode == .connectionClose { closeSent = true; dropQueue() }
        context.write(data, promise: promise)
    }

    // MARK: Direct path for uncompressed sessions (called on the event loop)

    /// Writes what the socket takes now, with one flush, and queues the rest.
    func enqueue(_ messages: some Sequence<OutboundMessage>) {
        guard !closeSent, let context else { return }
        var wrote = false
        for message in messages {
            if queue.isEmpty, context.channel.isWritable {
                writeFrame(message, context: context)
                wrote = true
                continue
            }
            switch queue.enqueue(message) {
            case .queued: break
            case .conflated: metrics.conflated.increment()
            case .dropped: metrics.dropped.increment()
            case .overflow:
                metrics.slowConsumerCloses.increment()
                if wrote { context.flush() }
                sendClose(code: CloseCode.slowConsumer, reason: "slow consumer")
                return
            }
        }
        if wrote { context.flush() }
        reportQueueBytes()
    }

    private func drain() {
        guard let context, !closeSent else { return }
        var wrote = false
        while context.channel.isWritable, let message = queue.popFirst() {
            writeFrame(message, context: context)
            wrote = true
        }
        if wrote { context.flush() }
        reportQueueBytes()
    }

    private func writeFrame(_ message: OutboundMessage, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: .text, data: message.payload)
        context.write(wrapOutboundOut(frame), promise: nil)
        metrics.messagesOut.increment()
    }

    // MARK: Closing and liveness

    /// Sends a close frame (once), then closes the socket if the peer does not finish the handshake.
    func sendClose(code: UInt16, reason: String) {
        guard let context, !closeSent else { return }
        closeSent = true
        dropQueue()
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.writeInteger(code)
        data.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        let channel = context.channel
        context.eventLoop.scheduleTask(in: configuration.closeGrace) {
            channel.close(promise: nil)
        }
    }

    private func heartbeat() {
        guard let context, !closeSent else { return }
        if heardSinceLastPing {
            missedPings = 0
        } else {
            missedPings += 1
        }
        if missedPings >= 2 {
            sendClose(code: CloseCode.goingAway, reason: "heartbeat timeout")
            // A silent peer will not answer the close either.
            context.channel.close(promise: nil)
            return
        }
        heardSinceLastPing = false
        let frame = WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(string: "nebula"))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func dropQueue() {
        queue.removeAll()
        reportQueueBytes()
    }

    private func reportQueueBytes() {
        let delta = queue.bytes - queuedBytesReported
        if delta != 0 {
            metrics.queueBytes.increment(by: Int64(delta))
            queuedBytesReported = queue.bytes
        }
    }
}
