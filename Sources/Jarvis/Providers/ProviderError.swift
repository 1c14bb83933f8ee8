/// Why a provider could not give (the rest of) an answer. The chain falls through to the next
/// provider on any of these while no token has arrived yet.
public enum ProviderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing listens at the base URL, or the connection broke before a response.
    case unreachable(String)
    /// A response other than 200, with the start of its body.
    case httpStatus(Int, String)
    /// No response head within the connect timeout, no first token within the first-token
    /// timeout, or a silence between chunks longer than the idle timeout.
    case timeout(TimeoutPhase)
    /// The body was not the event stream of chat completion chunks we asked for.
    case malformedStream(String)
    /// The provider reported an error inside the stream (`{"error": …}`).
    case reported(String)
    /// The stream ended without `data: [DONE]` or a finish reason: the answer may be cut short.
    case endedEarly
    /// The breaker holds this provider off after repeated failures.
    case circuitOpen

    public enum TimeoutPhase: String, Sendable {
        case connect = "connect"
        case firstToken = "first token"
        case idle = "idle between chunks"
    }

    public var description: String {
        switch self {
        case .unreachable(let why): "unreachable: \(why)"
        case .httpStatus(let status, let body): "HTTP \(status)" + (body.isEmpty ? "" : ": \(body)")
        case .timeout(let phase): "timed out waiting (\(phase.rawValue))"
        case .malformedStream(let why): "malformed stream: \(why)"
        case .reported(let message): "provider error: \(message)"
        case .endedEarly: "stream ended before the answer finished"
        case .circuitOpen: "circuit open after repeated failures"
        }
    }
}
