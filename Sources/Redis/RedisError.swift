/// What went wrong talking to Redis.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes from the server were not RESP (hiredis's own words).
    case protocolError(String)
    /// The server answered a command with an error reply.
    case server(command: String, message: String)
    /// The connection is gone (or never came up).
    case connectionClosed(String)
    /// No reply within the time allowed (the server is paused, overloaded or unreachable).
    case timedOut(command: String, after: String)
    /// Too many commands already wait for replies: the server is not keeping up.
    case backlogFull(Int)

    public var description: String {
        switch self {
        case .protocolError(let reason): "Redis protocol error: \(reason)"
        case .server(let command, let message): "Redis refused \(command): \(message)"
        case .connectionClosed(let reason): "Redis connection closed: \(reason)"
        case .timedOut(let command, let after): "Redis did not answer \(command) within \(after)"
        case .backlogFull(let limit): "Redis is not keeping up: \(limit) commands already wait for replies"
        }
    }
}
