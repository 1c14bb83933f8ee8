import NIOCore
import NIOPosix
import NIOSSL

/// Opens a TCP (or TLS, for `rediss://`) connection to Redis whose pipeline decodes RESP replies
/// and hands them to `handler` (commands or pub/sub); Nagle is off, since every command is small
/// and waited for.
enum RedisSocket {
    static func open(
        _ url: RedisURL, on group: any EventLoopGroup, timeout: TimeAmount,
        handler: @escaping @Sendable () -> any ChannelHandler
    ) async throws(RedisError) -> any Channel {
        let tls: NIOSSLContext?
        do {
            tls = url.tls ? try makeTLSContext(caFile: url.caFile) : nil
        } catch {
            throw .connectionClosed("cannot set up TLS for \(url): \(error)")
        }
        do {
            return try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let serverName = url.host.first?.isNumber == true || url.host.contains(":") ? nil : url.host
                            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPDecoder()))
                        try channel.pipeline.syncOperations.addHandler(handler())
                    }
                }
                .connect(host: url.host, port: url.port).get()
        } catch {
            throw .connectionClosed("cannot connect to \(url): \(error)")
        }
    }

    private static func makeTLSContext(caFile: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile { configuration.trustRoots = .file(caFile) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The commands that make a fresh connection usable: AUTH when the URL names credentials.
    static func authentication(for url: RedisURL) -> RESPCommand? {
        guard let password = url.password else { return nil }
        if let username = url.username { return RESPCommand("AUTH", username, password) }
        return RESPCommand("AUTH", password)
    }
}
