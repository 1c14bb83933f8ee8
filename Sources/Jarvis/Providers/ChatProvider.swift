/// Something that streams chat completions: an OpenAI-compatible HTTP endpoint in the server, a
/// scripted one in tests.
public protocol ChatProvider: Sendable {
    var name: String { get }
    var model: String { get }
    /// The answer's chunks in order. Ends normally only when the provider said the answer is
    /// complete; otherwise throws a `ProviderError`. Ending the iteration early (or cancelling the
    /// consuming task) stops generation upstream.
    func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<ChatCompletionChunk, any Error>
}
