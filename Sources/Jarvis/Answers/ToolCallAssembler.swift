/// Joins the streamed pieces of tool calls (OpenAI sends the id and name first, then the
/// arguments' JSON text in fragments, all keyed by `index`) into whole calls.
public struct ToolCallAssembler: Sendable {
    private var calls: [Int: (id: String, name: String, arguments: String)] = [:]

    public init() {}

    public mutating func add(_ deltas: [ChatCompletionChunk.ToolCallDelta]) {
        for delta in deltas {
            var call = calls[delta.index] ?? ("", "", "")
            if let id = delta.id, !id.isEmpty { call.id = id }
            if let name = delta.name, !name.isEmpty, call.name.isEmpty { call.name = name }
            if let arguments = delta.arguments { call.arguments += arguments }
            calls[delta.index] = call
        }
    }

    public var isEmpty: Bool { calls.isEmpty }

    /// In index order; a call the provider sent without an id gets one, so results can refer to it.
    public var toolCalls: [ChatMessage.ToolCall] {
        calls.keys.sorted().map { index in
            let call = calls[index]!
            return ChatMessage.ToolCall(id: call.id.isEmpty ? "call_\(index)" : call.id, name: call.name, arguments: call.arguments)
        }
    }
}
