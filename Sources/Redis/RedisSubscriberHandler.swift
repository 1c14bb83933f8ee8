import NIOCore

/// The subscriber side of a connection in pub/sub mode: messages go to `deliver`; the
/// confirmations of SUBSCRIBE and UNSUBSCRIBE (one per channel named) and the status reply of
/// AUTH complete the command that asked for them, in order.
final class RedisSubscriberHandler: ChannelDuplexHandler, RedisConnectionLoss {
    typealias InboundIn = RESPValue
    typealias OutboundIn = (RESPCommand, confirmations: Int, EventLoopPromise<Void>)
    typealias OutboundOut = ByteBuffer

    private let deliver: @Sendable (RedisMessage) -> Void
    private let closed: @Sendable (String) -> Void
    private var waiting = CircularBuffer<(remaining: Int, promise: EventLoopPromise<Void>)>()
    private var closedReason: String?

    init(deliver: @escaping @Sendable (RedisMessage) -> Void, closed: @escaping @Sendable (String) -> Void) {
        self.deliver = deliver
        self.closed = closed
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let (command, confirmations, confirmed) = unwrapOutboundIn(data)
        if let closedReason {
            confirmed.fail(RedisError.connectionClosed(closedReason))
            promise?.fail(RedisError.connectionClosed(closedReason))
            return
        }
        if confirmations > 0 { waiting.append((confirmations, confirmed)) } else { confirmed.succeed() }
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: command.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        switch value {
        case .simpleString:  // AUTH before any subscription
            waiting.popFirst()?.promise.succeed()
            return
        case .error(let message):
            waiting.popFirst()?.promise.fail(RedisError.server(command: "pub/sub", message: message))
            return
        default:
            break
        }
        guard case .array(let parts) = value, let kind = parts.first?.string?.lowercased() else { return }
        switch kind {
        case "message" where parts.count == 3:
            guard let channel = parts[1].string, case .bulkString(let payload) = parts[2] else { return }
            deliver(RedisMessage(channel: channel, payload: payload))
        case "subscribe", "unsubscribe":
            guard var head = waiting.popFirst() else { return }
            head.remaining -= 1
            if head.remaining == 0 { head.promise.succeed() } else { waiting.prepend(head) }
        default:
            return  // pong, psubscribe confirmations: nothing waits for them here
        }
    }

    func failAll(_ reason: String) {
        guard closedReason == nil else { return }
        closedReason = reason
        while let (_, promise) = waiting.popFirst() {
            promise.fail(RedisError.connectionClosed(reason))
        }
        closed(reason)
    }
}
