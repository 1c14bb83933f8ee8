import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One connection to Redis for commands. Commands from any task are pipelined on it: each is
/// written at once and its reply matched in order, so a burst of publications costs one round trip
/// of latency, not one each.
public final class RedisConnection: Sendable {
    public let url: RedisURL
    private let channel: any Channel
    private let closeReason: NIOLockedValueBox<String?>

    private init(url: RedisURL, channel: any Channel, closeReason: NIOLockedValueBox<String?>) {
        self.url = url
        self.channel = channel
        self.closeReason = closeReason
    }

    /// Why the connection ended, once it has.
    public var closedBecause: String? { closeReason.withLockedValue { $0 } }

    public var host: String { url.host }
    public var port: Int { url.port }

    public static func connect(
        host: String, port: Int, database: Int = 0, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws(RedisError) -> RedisConnection {
        try await connect(RedisURL(host: host, port: port, database: database), on: group, timeout: timeout)
    }

    /// Connects, authenticates when the URL has credentials, and selects the database.
    public static func connect(_ url: RedisURL, on group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)) async throws(RedisError) -> RedisConnection {
        let reason = NIOLockedValueBox<String?>(nil)
        let channel = try await RedisSocket.open(url, on: group, timeout: timeout) {
            RedisCommandHandler(closed: { text in reason.withLockedValue { $0 = $0 ?? text } })
        }
        let connection = RedisConnection(url: url, channel: channel, closeReason: reason)
        do {
            // Over TLS the handshake follows the TCP connect: a PING makes its failure (an untrusted
            // certificate) this call's error, not a connection that drops later for no stated reason.
            if url.tls { _ = try await connection.send(RESPCommand("PING"), timeout: timeout) }
            if let auth = RedisSocket.authentication(for: url) { _ = try await connection.send(auth, timeout: timeout) }
            if url.database != 0 { _ = try await connection.send(RESPCommand("SELECT", "\(url.database)"), timeout: timeout) }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Sends one command and waits for its reply; an error reply throws `.server`.
    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        try await send(command, timeout: nil)
    }

    /// As `send`, but gives up after `timeout`; a reply that comes later is dropped, and the
    /// connection stays in step because the handler still matches it to this command.
    public func send(_ command: RESPCommand, timeout: TimeAmount?) async throws(RedisError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        // A write that never reaches the handler (the channel is already closed) must still
        // answer; a reply promise completed twice keeps its first result.
        let written = channel.eventLoop.makePromise(of: Void.self)
        let closeReason = self.closeReason
        written.futureResult.whenFailure { error in
            promise.fail(RedisError.connectionClosed(closeReason.withLockedValue { $0 } ?? "\(error)"))
        }
        if let timeout {
            let expiry = channel.eventLoop.scheduleTask(in: timeout) {
                promise.fail(RedisError.timedOut(command: command.name, after: "\(timeout.nanoseconds / 1_000_000) ms"))
            }
            promise.futureResult.whenComplete { _ in expiry.cancel() }
        }
        channel.writeAndFlush((command, promise), promise: written)
        do {
            return try await promise.futureResult.get()
        } catch {
            throw (error as? RedisError) ?? .connectionClosed("\(error)")
        }
    }

    public var isActive: Bool { channel.isActive }

    /// Returns once the connection is closed, by either side.
    public func closed() async {
        try? await channel.closeFuture.get()
    }

    public func close() async {
        try? await channel.close()
    }
}
