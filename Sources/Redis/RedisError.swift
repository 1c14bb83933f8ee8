/// What went wrong talking to Redis.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes from the server were not RESP (hiredis's own words).
    case protocolError(String)
    /// The server answered a command with an error reply.
    case server(command: String, message: String)
    /// The connection is gone (or never came up).
    case connectionClosed(String)

    public var description: String {
        switch self {
        case .protocolError(let reason): "Redis protocol error: \(reason)"
        case .server(let command, let message): "Redis refused \(command): \(message)"
        case .connectionClosed(let reason): "Redis connection closed: \(reason)"
        }
    }
}
