import Realtime

/// One message of a conversation as OpenAI's chat completions API takes it.
public struct ChatMessage: Equatable, Sendable {
    public enum Role: String, Sendable {
        case system, user, assistant, tool
    }

    /// A call the assistant asked for; `arguments` is the JSON text the model wrote.
    public struct ToolCall: Equatable, Sendable {
        public var id: String
        public var name: String
        public var arguments: String

        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    public var role: Role
    public var content: String?
    public var toolCalls: [ToolCall]
    /// For `.tool` messages: the call this is the result of.
    public var toolCallID: String?

    public init(role: Role, content: String?, toolCalls: [ToolCall] = [], toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("role", .string(role.rawValue))]
        members.append(("content", content.map(JSONValue.string) ?? .null))
        if !toolCalls.isEmpty {
            members.append(
                ("tool_calls", .array(toolCalls.map { call in
                    .object([
                        ("id", .string(call.id)),
                        ("type", .string("function")),
                        ("function", .object([("name", .string(call.name)), ("arguments", .string(call.arguments))])),
                    ])
                })))
        }
        if let toolCallID { members.append(("tool_call_id", .string(toolCallID))) }
        return .object(members)
    }
}

/// A function the model may call, described by a JSON Schema for its arguments.
public struct ToolDefinition: Equatable, Sendable {
    public var name: String
    public var description: String
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }

    var json: JSONValue {
        .object([
            ("type", .string("function")),
            ("function", .object([
                ("name", .string(name)),
                ("description", .string(description)),
                ("parameters", parameters),
            ])),
        ])
    }
}

/// What to ask a provider; the model name comes from the provider's configuration.
public struct ChatRequest: Equatable, Sendable {
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    public var temperature: Double?
    public var maxTokens: Int?

    public init(messages: [ChatMessage], tools: [ToolDefinition] = [], temperature: Double? = nil, maxTokens: Int? = nil) {
        self.messages = messages
        self.tools = tools
        self.temperature = temperature
        self.maxTokens = maxTokens
    }

    /// The `POST /v1/chat/completions` body: streamed, with token usage in the last chunk where the
    /// server supports `stream_options` (others ignore it).
    public func body(model: String) -> [UInt8] {
        var members: [(key: String, value: JSONValue)] = [
            ("model", .string(model)),
            ("messages", .array(messages.map(\.json))),
            ("stream", .bool(true)),
            ("stream_options", .object([("include_usage", .bool(true))])),
        ]
        if !tools.isEmpty { members.append(("tools", .array(tools.map(\.json)))) }
        if let temperature { members.append(("temperature", .number(String(temperature)))) }
        if let maxTokens { members.append(("max_tokens", .number(String(maxTokens)))) }
        return JSONValue.object(members).jsonBytes
    }
}
