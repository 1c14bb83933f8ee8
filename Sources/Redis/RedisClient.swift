import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A command connection that stays up: `run()` connects, waits for the connection to drop, and
/// connects again with backoff until cancelled. Commands fail at once (never queue) while Redis is
/// away, wait at most `commandTimeout`, and are refused when `maxPendingCommands` already wait —
/// a paused server must not pile up work in this process.
public final class RedisClient: RedisCommandSender, Sendable {
    public struct Options: Sendable {
        public var connectTimeout: Duration = .seconds(3)
        public var commandTimeout: Duration = .seconds(5)
        public var maxPendingCommands = 10_000
        public var backoff = ReconnectBackoff()

        public init() {}
    }

    private struct State {
        var connection: RedisConnection?
        var pending = 0
        var lastError: String?
    }

    public let url: RedisURL
    private let options: Options
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Called after every successful (re)connection, before commands flow: the broker reloads
    /// state it cannot trust across a Redis restart.
    private let connected: @Sendable () -> Void

    public init(url: RedisURL, options: Options = Options(), group: any EventLoopGroup, logger: Logger, connected: @escaping @Sendable () -> Void = {}) {
        self.url = url
        self.options = options
        self.group = group
        self.logger = logger
        self.connected = connected
    }

    public var isConnected: Bool { state.withLockedValue { $0.connection?.isActive ?? false } }
    public var lastError: String? { state.withLockedValue { $0.lastError } }

    /// Keeps a connection up until the task is cancelled.
    public func run() async {
        var backoff = options.backoff
        while !Task.isCancelled {
            do {
                let connection = try await RedisConnection.connect(url, on: group, timeout: TimeAmount(options.connectTimeout))
                state.withLockedValue {
                    $0.connection = connection
                    $0.lastError = nil
                }
                logger.info("redis connected", metadata: ["redis": "\(url)"])
                backoff.reset()
                connected()
                await withTaskCancellationHandler {
                    await connection.closed()
                } onCancel: {
                    Task { await connection.close() }
                }
                state.withLockedValue {
                    $0.connection = nil
                    $0.lastError = "connection lost: \(connection.closedBecause ?? "closed")"
                }
                if !Task.isCancelled { logger.warning("redis connection lost", metadata: ["redis": "\(url)"]) }
            } catch {
                state.withLockedValue { $0.lastError = error.description }
                logger.warning("redis unreachable", metadata: ["redis": "\(url)", "error": "\(error)"])
            }
            try? await Task.sleep(for: backoff.next())
        }
        let connection = state.withLockedValue { state in
            defer { state.connection = nil }
            return state.connection
        }
        await connection?.close()
    }

    public func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue {
        let admitted: Result<RedisConnection, RedisError> = state.withLockedValue { state in
            guard let connection = state.connection, connection.isActive else {
                return .failure(.connectionClosed("not connected to \(url) (\(state.lastError ?? "connecting"))"))
            }
            guard state.pending < options.maxPendingCommands else { return .failure(.backlogFull(options.maxPendingCommands)) }
            state.pending += 1
            return .success(connection)
        }
        let connection = try admitted.get()
        defer { state.withLockedValue { $0.pending -= 1 } }
        return try await connection.send(command, timeout: TimeAmount(options.commandTimeout))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
