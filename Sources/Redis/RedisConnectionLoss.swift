import NIOCore

/// A Redis handler that holds work waiting for the server: when the connection fails or closes,
/// `failAll` gives everything waiting the reason, once.
protocol RedisConnectionLoss: ChannelInboundHandler {
    func failAll(_ reason: String)
}

extension RedisConnectionLoss {
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll("\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll("the server closed the connection")
        context.fireChannelInactive()
    }
}
