/// Anything that sends a command and answers with its reply: one connection, or a client that
/// keeps one up across reconnects.
public protocol RedisCommandSender: Sendable {
    func send(_ command: RESPCommand) async throws(RedisError) -> RESPValue
}

extension RedisConnection: RedisCommandSender {}
