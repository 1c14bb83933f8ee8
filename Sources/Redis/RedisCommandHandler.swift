import NIOCore

/// Pipelining: each command written carries a promise; replies arrive in the order the commands
/// were sent, so the oldest waiting promise takes each reply. When the connection closes, every
/// command still waiting fails with the reason.
final class RedisCommandHandler: ChannelDuplexHandler, RedisConnectionLoss {
    typealias InboundIn = RESPValue
    typealias OutboundIn = (RESPCommand, EventLoopPromise<RESPValue>)
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<(name: String, promise: EventLoopPromise<RESPValue>)>()
    private var closedReason: String?
    /// Told why the connection ended (a TLS handshake refused, a reset), once.
    private let closed: @Sendable (String) -> Void

    init(closed: @escaping @Sendable (String) -> Void = { _ in }) {
        self.closed = closed
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (command, reply) = unwrapOutboundIn(data)
        if let closedReason {
            reply.fail(RedisError.connectionClosed(closedReason))
            promise?.fail(RedisError.connectionClosed(closedReason))
            return
        }
        waiting.append((command.name, reply))
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: command.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let (name, promise) = waiting.popFirst() else {
            // A reply nobody asked for: the stream is out of step, and nothing after it can be trusted.
            failAll("a reply arrived with no command waiting for it")
            context.close(promise: nil)
            return
        }
        if case .error(let message) = value {
            promise.fail(RedisError.server(command: name, message: message))
        } else {
            promise.succeed(value)
        }
    }

    func failAll(_ reason: String) {
        if closedReason == nil {
            closedReason = reason
            closed(reason)
        }
        while let (_, promise) = waiting.popFirst() {
            promise.fail(RedisError.connectionClosed(reason))
        }
    }
}
