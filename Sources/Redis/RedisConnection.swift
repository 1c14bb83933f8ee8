import NIOCore
import NIOPosix

/// One connection to Redis for commands. Commands from any task are pipelined on it: each is
/// written at once and its reply matched in order, so a burst of publications costs one round trip
/// of latency, not one each.
public final class RedisConnection: Sendable {
    public let host: String
    public let port: Int
    private let channel: any Channel

    private init(host: String, port: Int, channel: any Channel) {
        self.host = host
        self.port = port
        self.channel = channel
    }

    /// Connects and, when given, selects the database.
    public static func connect(
        host: String, port: Int, database: Int = 0, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws(RedisError) -> RedisConnection {
        let channel = try await RedisSocket.open(host: host, port: port, on: group, timeout: timeout) { RedisCommandHandler() }
        let connection = RedisConnection(host: host, port: port, channel: channel)
        if database != 0 {
            _ = try await connection.send(RESPCommand("SELECT", "\(database)"))
        }
        return connection
    }

    /// Sends one command and waits for its reply; an error reply throws `.server`.
    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        // A write that never reaches the handler (the channel is already closed) must still
        // answer; a reply promise completed twice keeps its first result.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail(RedisError.connectionClosed("\($0)")) }
        channel.writeAndFlush((command, promise), promise: written)
        do {
            return try await promise.futureResult.get()
        } catch {
            throw (error as? RedisError) ?? .connectionClosed("\(error)")
        }
    }

    public var isActive: Bool { channel.isActive }

    public func close() async {
        try? await channel.close()
    }
}
