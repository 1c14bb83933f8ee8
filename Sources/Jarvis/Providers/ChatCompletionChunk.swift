import Realtime

/// One `chat.completion.chunk` of an OpenAI-compatible stream, reduced to what an answer needs.
///
/// Tolerates what real servers send: empty `choices` (usage-only chunks), an empty `delta`,
/// `"content": null`, the role alone in the first chunk, and extra members (llama.cpp's `timings`).
public struct ChatCompletionChunk: Equatable, Sendable {
    /// A piece of one tool call; pieces with the same `index` concatenate (see `ToolCallAssembler`).
    public struct ToolCallDelta: Equatable, Sendable {
        public var index: Int
        public var id: String?
        public var name: String?
        public var arguments: String?

        public init(index: Int, id: String? = nil, name: String? = nil, arguments: String? = nil) {
            self.index = index
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    public struct Usage: Equatable, Sendable {
        public var promptTokens: Int
        public var completionTokens: Int

        public init(promptTokens: Int, completionTokens: Int) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
        }
    }

    public var content: String?
    public var toolCalls: [ToolCallDelta]
    public var finishReason: String?
    public var usage: Usage?
    public var model: String?

    public init(content: String? = nil, toolCalls: [ToolCallDelta] = [], finishReason: String? = nil, usage: Usage? = nil, model: String? = nil) {
        self.content = content
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.usage = usage
        self.model = model
    }

    /// Whether the chunk carries anything of the answer itself (text or a tool call).
    public var hasAnswerContent: Bool {
        !(content ?? "").isEmpty || !toolCalls.isEmpty
    }

    /// Parses one `data:` payload (not `[DONE]`).
    public static func parse(_ data: String) throws(ProviderError) -> ChatCompletionChunk {
        let json: JSONValue
        do {
            json = try JSONParser.parse(data)
        } catch {
            throw .malformedStream("chunk is not JSON (\(error.description))")
        }
        guard json.isObject else { throw .malformedStream("chunk is not a JSON object") }
        if let error = json["error"] {
            throw .reported(error["message"]?.stringValue ?? error.stringValue ?? "unspecified")
        }
        var chunk = ChatCompletionChunk(model: json["model"]?.stringValue)
        if case .array(let choices)? = json["choices"] {
            // Only the first choice: we never ask for n > 1.
            if let choice = choices.first(where: { ($0["index"]?.int64Value ?? 0) == 0 }) {
                chunk.finishReason = choice["finish_reason"]?.stringValue
                if let delta = choice["delta"] {
                    chunk.content = delta["content"]?.stringValue
                    if case .array(let calls)? = delta["tool_calls"] {
                        chunk.toolCalls = calls.enumerated().map { position, call in
                            ToolCallDelta(
                                index: call["index"]?.int64Value.map(Int.init) ?? position,
                                id: call["id"]?.stringValue,
                                name: call["function"]?["name"]?.stringValue,
                                arguments: call["function"]?["arguments"]?.stringValue
                            )
                        }
                    }
                }
            }
        }
        if let usage = json["usage"], usage.isObject {
            chunk.usage = Usage(
                promptTokens: usage["prompt_tokens"]?.int64Value.map(Int.init) ?? 0,
                completionTokens: usage["completion_tokens"]?.int64Value.map(Int.init) ?? 0
            )
        }
        return chunk
    }
}
