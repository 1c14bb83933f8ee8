import Testing
@testable import Jarvis

@Suite("Chat completion chunks")
struct ChatCompletionChunkTests {
    @Test func contentDelta() throws {
        let chunk = try ChatCompletionChunk.parse(
            #"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"smollm2","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#)
        #expect(chunk == ChatCompletionChunk(content: "Hel", model: "smollm2"))
        #expect(chunk.hasAnswerContent)
    }

    @Test func roleOnlyEmptyDeltaNullContentAndEmptyChoicesCarryNoAnswer() throws {
        for text in [
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"choices":[{"index":0,"delta":{}}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":null}}]}"#,
            #"{"choices":[]}"#,
            #"{"choices":[{"index":0,"delta":{"content":null},"finish_reason":null}],"timings":{"predicted_ms":3.2}}"#,
        ] {
            let chunk = try ChatCompletionChunk.parse(text)
            #expect(!chunk.hasAnswerContent, "\(text)")
            #expect(chunk.finishReason == nil)
        }
    }

    @Test func finishReasonAndUsage() throws {
        let finish = try ChatCompletionChunk.parse(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#)
        #expect(finish.finishReason == "stop")
        let usage = try ChatCompletionChunk.parse(#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}"#)
        #expect(usage.usage == .init(promptTokens: 12, completionTokens: 34))
        #expect(try ChatCompletionChunk.parse(#"{"choices":[],"usage":null}"#).usage == nil)
    }

    @Test func toolCallDeltas() throws {
        let first = try ChatCompletionChunk.parse(
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"restart_container","arguments":""}}]}}]}"#)
        #expect(first.toolCalls == [.init(index: 0, id: "call_1", name: "restart_container", arguments: "")])
        #expect(first.hasAnswerContent)
        let next = try ChatCompletionChunk.parse(#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"na"}}]}}]}"#)
        #expect(next.toolCalls == [.init(index: 0, arguments: "{\"na")])
    }

    @Test func errorInsideTheStreamIsReported() {
        #expect(throws: ProviderError.reported("model overloaded")) {
            _ = try ChatCompletionChunk.parse(#"{"error":{"message":"model overloaded","type":"server_error"}}"#)
        }
    }

    @Test func garbageIsMalformed() {
        for text in ["not json", "[1,2]", #"{"choices":"#] {
            #expect(throws: ProviderError.self) { _ = try ChatCompletionChunk.parse(text) }
            do {
                _ = try ChatCompletionChunk.parse(text)
            } catch {
                guard case .malformedStream = error else {
                    Issue.record("expected malformedStream for \(text), got \(error)")
                    return
                }
            }
        }
    }

    @Test func requestBodyIsTheDocumentedShape() throws {
        let request = ChatRequest(
            messages: [
                ChatMessage(role: .system, content: "You are Jarvis."),
                ChatMessage(role: .user, content: "Why does \"db\" restart?"),
                ChatMessage(role: .assistant, content: nil, toolCalls: [.init(id: "call_1", name: "container_logs", arguments: #"{"name":"db"}"#)]),
                ChatMessage(role: .tool, content: "OOMKilled", toolCallID: "call_1"),
            ],
            tools: [ToolDefinition(name: "container_logs", description: "Recent logs", parameters: .object([("type", .string("object"))]))],
            maxTokens: 256
        )
        let text = String(decoding: request.body(model: "smollm2"), as: UTF8.self)
        #expect(text == #"{"model":"smollm2","messages":[{"role":"system","content":"You are Jarvis."},{"role":"user","content":"Why does \"db\" restart?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"container_logs","arguments":"{\"name\":\"db\"}"}}]},{"role":"tool","content":"OOMKilled","tool_call_id":"call_1"}],"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"container_logs","description":"Recent logs","parameters":{"type":"object"}}}],"max_tokens":256}"#)
    }
}
