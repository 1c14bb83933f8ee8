/// One OpenAI-compatible endpoint in the chain (OpenAI, Ollama, llama.cpp, vLLM …).
public struct ProviderConfiguration: Equatable, Sendable {
    /// Shown with every answer and in logs ("gpu-ollama").
    public var name: String
    /// Up to and including the API version: `http://gpu-box:11434/v1`; `/chat/completions` is appended.
    public var baseURL: String
    public var model: String
    /// Sent as `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// Until the response head arrives.
    public var connectTimeout: Duration
    /// From the request until the first token (a cold model on a CPU takes a while to load).
    public var firstTokenTimeout: Duration
    /// Longest silence between two chunks once the answer streams.
    public var idleTimeout: Duration
    /// `max_tokens` for requests that do not set their own; nil leaves it to the provider.
    public var maxTokens: Int?

    public init(
        name: String, baseURL: String, model: String, apiKey: String? = nil,
        connectTimeout: Duration = .seconds(5), firstTokenTimeout: Duration = .seconds(60), idleTimeout: Duration = .seconds(30),
        maxTokens: Int? = nil
    ) {
        self.name = name
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.connectTimeout = connectTimeout
        self.firstTokenTimeout = firstTokenTimeout
        self.idleTimeout = idleTimeout
        self.maxTokens = maxTokens
    }

    var completionsURL: String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/chat/completions"
    }
}
