/// How an answer ended and what it said: stored with the message, published as `answer.end`.
public struct AnswerOutcome: Equatable, Sendable {
    public enum State: String, Sendable {
        /// The provider finished (any finish reason, tool calls included).
        case complete
        /// The user stopped it.
        case cancelled
        /// The provider failed after its first token: the text so far stands, marked as cut short.
        case interrupted
        /// No provider could answer at all.
        case failed
    }

    public var state: State
    public var content: String
    public var toolCalls: [ChatMessage.ToolCall]
    public var error: String?
    public var provider: String?
    public var model: String?
    public var finishReason: String?
    public var promptTokens: Int?
    /// From the provider's usage report, else the number of streamed content chunks.
    public var completionTokens: Int
    public var firstTokenMilliseconds: Int?
    public var totalMilliseconds: Int

    public init(
        state: State, content: String, toolCalls: [ChatMessage.ToolCall] = [], error: String? = nil, provider: String? = nil,
        model: String? = nil, finishReason: String? = nil, promptTokens: Int? = nil, completionTokens: Int = 0,
        firstTokenMilliseconds: Int? = nil, totalMilliseconds: Int = 0
    ) {
        self.state = state
        self.content = content
        self.toolCalls = toolCalls
        self.error = error
        self.provider = provider
        self.model = model
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.firstTokenMilliseconds = firstTokenMilliseconds
        self.totalMilliseconds = totalMilliseconds
    }
}
