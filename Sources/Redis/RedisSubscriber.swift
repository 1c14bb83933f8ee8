import NIOCore
import NIOPosix

/// A connection in pub/sub mode. Messages arrive on `messages`, which finishes when the connection
/// is lost (the caller reconnects and subscribes again). SUBSCRIBE and UNSUBSCRIBE take any number
/// of channels in one command, so interest changes can be batched.
public final class RedisSubscriber: Sendable {
    public let messages: AsyncStream<RedisMessage>
    private let channel: any Channel

    private init(messages: AsyncStream<RedisMessage>, channel: any Channel) {
        self.messages = messages
        self.channel = channel
    }

    public static func connect(
        host: String, port: Int, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws(RedisError) -> RedisSubscriber {
        try await connect(RedisURL(host: host, port: port), on: group, timeout: timeout)
    }

    /// Connects and authenticates when the URL has credentials (pub/sub ignores the database).
    public static func connect(_ url: RedisURL, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)) async throws(RedisError) -> RedisSubscriber {
        let (messages, continuation) = AsyncStream<RedisMessage>.makeStream()
        let channel: any Channel
        do {
            channel = try await RedisSocket.open(url, on: group, timeout: timeout) {
                RedisSubscriberHandler(deliver: { continuation.yield($0) }, closed: { _ in continuation.finish() })
            }
        } catch {
            continuation.finish()
            throw error
        }
        let subscriber = RedisSubscriber(messages: messages, channel: channel)
        if let auth = RedisSocket.authentication(for: url) {
            do {
                try await subscriber.send(auth, confirmations: 1)
            } catch {
                await subscriber.close()
                throw error
            }
        }
        return subscriber
    }

    /// Returns once the server confirmed every channel.
    public func subscribe(_ channels: [String]) async throws(RedisError) {
        guard !channels.isEmpty else { return }
        try await send(RESPCommand("SUBSCRIBE", channels.map { Array($0.utf8) }), confirmations: channels.count)
    }

    public func unsubscribe(_ channels: [String]) async throws(RedisError) {
        guard !channels.isEmpty else { return }
        try await send(RESPCommand("UNSUBSCRIBE", channels.map { Array($0.utf8) }), confirmations: channels.count)
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }

    private func send(_ command: RESPCommand, confirmations: Int) async throws(RedisError) {
        let confirmed = channel.eventLoop.makePromise(of: Void.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { confirmed.fail(RedisError.connectionClosed("\($0)")) }
        channel.writeAndFlush((command, confirmations, confirmed), promise: written)
        do {
            try await confirmed.futureResult.get()
        } catch {
            throw (error as? RedisError) ?? .connectionClosed("\(error)")
        }
    }
}
