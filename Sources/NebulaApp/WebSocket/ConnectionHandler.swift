import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import Realtime

/// Receives complete messages of a connection served on its event loop.
protocol ConnectionDelegate: AnyObject {
    /// A whole text (valid UTF-8) or binary message.
    func connection(_ connection: ConnectionHandler, received message: ByteBuffer, isText: Bool)
    /// The socket is gone; called once.
    func connectionClosed(_ connection: ConnectionHandler)
}

/// The event-loop side of every upgraded connection. It owns what must never wait on an async
/// task: the outbound queue (written straight from the loop, bounded in bytes, with
/// conflation), liveness (pings, and closing peers that went silent), and close ordering
/// (nothing is written after a close frame).
///
/// Uncompressed connections are served entirely here (with a `ConnectionDelegate`): no task
/// exists for an idle connection, which keeps one at a few KiB. Compressed connections pass
/// frames on to Hummingbird's WebSocket handler, which owns the deflate streams.
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
        var maxMessageSize: Int
    }

    private let configuration: Configuration
    private let metrics: RealtimeMetrics
    private let rawWriter: RawFrameWriter
    private let batchers: FlushBatchers
    private var batcher: FlushBatcher?
    private var flushPending = false
    private var context: ChannelHandlerContext?
    private var queue: OutboundQueue
    private var heardSinceLastPing = true
    private var missedPings = 0
    private var pingTask: RepeatedTask?
    private var closeSent = false
    private var queuedBytesReported = 0
    private var assembler: MessageAssembler
    /// Set for connections served on the loop; nil when frames go on to the async handler.
    var delegate: (any ConnectionDelegate)?

    init(configuration: Configuration, metrics: RealtimeMetrics, rawWriter: RawFrameWriter, batchers: FlushBatchers) {
        self.configuration = configuration
        self.metrics = metrics
        self.rawWriter = rawWriter
        self.batchers = batchers
        self.queue = OutboundQueue(limit: configuration.maxQueueBytes)
        self.assembler = MessageAssembler(maxMessageSize: configuration.maxMessageSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.batcher = batchers.batcher(for: context.eventLoop)
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
        if let delegate {
            self.delegate = nil
            delegate.connectionClosed(self)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Hummingbird's graceful shutdown asks every connection to wind down.
        if event is ChannelShouldQuiesceEvent, delegate != nil {
            sendClose(code: CloseCode.goingAway, reason: ServerShutdown.reason)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSinceLastPing = true
        missedPings = 0
        let frame = unwrapInboundIn(data)
        // RFC 6455 §5.1: a server must close the connection on an unmasked client frame.
        guard frame.maskKey != nil else {
            fail(code: CloseCode.protocolError, reason: "client frames must be masked")
            return
        }
        guard delegate != nil else {
            context.fireChannelRead(data)
            return
        }
        switch assembler.receive(frame) {
        case .none:
            break
        case .text(let message):
            if !closeSent { delegate?.connection(self, received: message, isText: true) }
        case .binary(let message):
            if !closeSent { delegate?.connection(self, received: message, isText: false) }
        case .ping(let payload):
            guard !closeSent else { break }
            context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
            scheduleFlush()
        case .close:
            // Our close already went out: the handshake is complete. Otherwise answer, then close.
            if closeSent {
                context.close(promise: nil)
            } else {
                closeSent = true
                dropQueue()
                flushNow()
                var body = context.channel.allocator.buffer(capacity: 2)
                body.writeInteger(CloseCode.normal)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: body)))
                    .whenComplete { _ in channel.close(promise: nil) }
            }
        case .fail(let code, let reason):
            fail(code: code, reason: reason)
        }
    }

    /// Writes a data frame from the loop (the echo endpoint's replies).
    func writeMessage(_ data: ByteBuffer, isText: Bool) {
        guard let context, !closeSent else { return }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: isText ? .text : .binary, data: data)), promise: nil)
        scheduleFlush()
    }

    /// Stops reading from the socket while commands pile up, so a flood waits in the kernel.
    func setReading(_ reading: Bool) {
        guard let context else { return }
        _ = context.channel.setOption(ChannelOptions.autoRead, value: reading)
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
        // Frames already written by the direct path go first.
        flushNow()
        context.write(data, promise: promise)
    }

    // MARK: Direct path for uncompressed sessions (called on the event loop)

    /// Writes what the socket takes now and queues the rest. The flush comes from the loop's
    /// `FlushBatcher`, after the work already queued on the loop.
    func enqueue(_ message: OutboundMessage, flush: FlushTiming = .deferred) {
        guard !closeSent, let context else { return }
        if queue.isEmpty, context.channel.isWritable {
            writeFrame(message, flush: flush)
            return
        }
        switch queue.enqueue(message) {
        case .queued: break
        case .conflated: metrics.conflated.increment()
        case .dropped: metrics.dropped.increment()
        case .overflow:
            metrics.slowConsumerCloses.increment()
            flushNow()
            sendClose(code: CloseCode.slowConsumer, reason: "slow consumer")
            return
        }
        reportQueueBytes()
    }

    private func drain() {
        guard context != nil, !closeSent else { return }
        while let context, context.channel.isWritable, let message = queue.popFirst() {
            writeFrame(message)
        }
        reportQueueBytes()
    }

    private func writeFrame(_ message: OutboundMessage, flush: FlushTiming = .deferred) {
        guard let raw = rawWriter.context else { return }
        raw.write(NIOAny(message.wireFrame), promise: nil)
        metrics.messagesOut.increment()
        switch flush {
        case .deferred:
            scheduleFlush()
        case .immediate:
            // Also carries any frame still waiting for the batcher; its flush then finds nothing to do.
            flushPending = false
            raw.flush()
        }
    }

    private func scheduleFlush() {
        guard !flushPending else { return }
        flushPending = true
        batcher?.needsFlush(self)
    }

    func flushNow() {
        guard flushPending else { return }
        flushPending = false
        rawWriter.context?.flush()
    }

    // MARK: Closing and liveness

    /// Fails the connection (RFC 6455 §7.1.7): a close frame, then the socket is closed at once,
    /// because a peer that broke the protocol cannot be trusted to finish the handshake.
    private func fail(code: UInt16, reason: String) {
        guard let context else { return }
        let alreadyClosing = closeSent
        sendClose(code: code, reason: reason)
        if alreadyClosing {
            context.close(promise: nil)
        } else {
            let channel = context.channel
            context.eventLoop.execute { channel.close(promise: nil) }
        }
    }

    /// Sends a close frame (once), then closes the socket if the peer does not finish the handshake.
    func sendClose(code: UInt16, reason: String) {
        guard let context, !closeSent else { return }
        closeSent = true
        dropQueue()
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.writeInteger(code)
        data.writeString(reason)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        flushNow()
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
