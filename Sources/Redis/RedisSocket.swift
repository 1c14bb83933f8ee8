import NIOCore
import NIOPosix

/// Opens a TCP connection to Redis whose pipeline decodes RESP replies and hands them to `handler`
/// (commands or pub/sub); Nagle is off, since every command is small and waited for.
enum RedisSocket {
    static func open(
        host: String, port: Int, on group: any EventLoopGroup, timeout: TimeAmount,
        handler: @escaping @Sendable () -> any ChannelHandler
    ) async throws(RedisError) -> any Channel {
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler())
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            throw .connectionClosed("cannot connect to \(host):\(port): \(error)")
        }
    }
}
