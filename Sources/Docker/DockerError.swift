/// What went wrong talking to the engine, with what is needed to act on it.
public enum DockerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The engine could not be reached at all (no socket, refused, timed out).
    case unavailable(endpoint: String, reason: String)
    /// The engine answered with an error status; `message` is its own explanation.
    case engine(path: String, status: Int, message: String)
    /// No such container.
    case notFound(container: String)
    /// The answer was not what the API documents.
    case malformedResponse(path: String, reason: String)
    /// The engine's API is older than we can use.
    case unsupportedVersion(String)

    public var description: String {
        switch self {
        case .unavailable(let endpoint, let reason): "Docker engine at \(endpoint) is unavailable: \(reason)"
        case .engine(let path, let status, let message): "Docker engine answered \(status) for \(path): \(message)"
        case .notFound(let container): "no container '\(container)'"
        case .malformedResponse(let path, let reason): "unexpected answer from the Docker engine for \(path): \(reason)"
        case .unsupportedVersion(let version): "Docker API \(version) is too old; 1.25 or newer is needed"
        }
    }
}
