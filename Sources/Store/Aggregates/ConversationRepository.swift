/// A Jarvis conversation as stored.
public struct ConversationRecord: Sendable, Equatable {
    public var id: String
    /// The principal id of whoever started it ("user:3", "key:7").
    public var owner: String
    public var title: String
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: String, owner: String, title: String, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.owner = owner
        self.title = title
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One message of a conversation. Assistant answers carry their outcome and timings.
public struct ConversationMessageRecord: Sendable, Equatable {
    public var id: Int64
    public var conversationID: String
    public var role: String
    public var content: String
    /// JSON array of the tool calls an assistant message asked for.
    public var toolCalls: String?
    public var toolCallID: String?
    /// streaming, complete, cancelled, interrupted or failed.
    public var state: String
    public var error: String?
    public var provider: String?
    public var model: String?
    public var finishReason: String?
    public var promptTokens: Int64?
    public var completionTokens: Int64?
    public var firstTokenMilliseconds: Int64?
    public var totalMilliseconds: Int64?
    /// Where the answer's events start on the conversation's channel (the position just before them).
    public var streamEpoch: String?
    public var streamOffset: Int64?
    public var createdAt: Int64

    public init(
        id: Int64 = 0, conversationID: String, role: String, content: String, toolCalls: String? = nil, toolCallID: String? = nil,
        state: String, error: String? = nil, provider: String? = nil, model: String? = nil, finishReason: String? = nil,
        promptTokens: Int64? = nil, completionTokens: Int64? = nil, firstTokenMilliseconds: Int64? = nil, totalMilliseconds: Int64? = nil,
        streamEpoch: String? = nil, streamOffset: Int64? = nil, createdAt: Int64
    ) {
        self.id = id
        self.conversationID = conversationID
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.state = state
        self.error = error
        self.provider = provider
        self.model = model
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.firstTokenMilliseconds = firstTokenMilliseconds
        self.totalMilliseconds = totalMilliseconds
        self.streamEpoch = streamEpoch
        self.streamOffset = streamOffset
        self.createdAt = createdAt
    }
}

/// All SQL about Jarvis conversations and their messages, in one place.
public struct ConversationRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    public func create(_ conversation: ConversationRecord) async throws(StoreError) {
        try await database.execute("""
            INSERT INTO jarvis_conversations (id, owner, title, created_at, updated_at)
            VALUES (\(bind: conversation.id), \(bind: conversation.owner), \(bind: conversation.title),
                    \(bind: conversation.createdAt), \(bind: conversation.updatedAt))
            """)
    }

    public func find(id: String) async throws(StoreError) -> ConversationRecord? {
        try await database.first("SELECT * FROM jarvis_conversations WHERE id = \(bind: id)").map(Self.conversation)
    }

    /// Most recently active first; `owner` nil lists everyone's (admins).
    /// `shared`: also the conversations the server keeps for people to decide on — owned by this
    /// principal (`server`: maintenance suggestions) or with ids starting with this prefix (`mcp-`:
    /// outside agents' tool calls).
    public func list(owner: String?, limit: Int, shared: (owner: String, idPrefix: String)? = nil) async throws(StoreError) -> [ConversationRecord] {
        let limit = max(0, min(limit, 1000))
        if let owner, let shared {
            return try await database.query("""
                SELECT * FROM jarvis_conversations
                WHERE owner = \(bind: owner) OR owner = \(bind: shared.owner) OR SUBSTR(id, 1, CAST(\(bind: shared.idPrefix.unicodeScalars.count) AS INTEGER)) = \(bind: shared.idPrefix)
                ORDER BY updated_at DESC, id LIMIT \(bind: limit)
                """).map(Self.conversation)
        }
        if let owner {
            return try await database.query("""
                SELECT * FROM jarvis_conversations WHERE owner = \(bind: owner) ORDER BY updated_at DESC, id LIMIT \(bind: limit)
                """).map(Self.conversation)
        }
        return try await database.query("SELECT * FROM jarvis_conversations ORDER BY updated_at DESC, id LIMIT \(bind: limit)")
            .map(Self.conversation)
    }

    /// False when there is no such conversation.
    public func rename(id: String, title: String, at time: Int64) async throws(StoreError) -> Bool {
        !(try await database.query("""
            UPDATE jarvis_conversations SET title = \(bind: title), updated_at = \(bind: time) WHERE id = \(bind: id) RETURNING id
            """)).isEmpty
    }

    public func touch(id: String, at time: Int64) async throws(StoreError) {
        try await database.execute("UPDATE jarvis_conversations SET updated_at = \(bind: time) WHERE id = \(bind: id)")
    }

    /// Removes the conversation with its messages and tool calls. False when there was none.
    public func delete(id: String) async throws(StoreError) -> Bool {
        // Children first: SQLite enforces ON DELETE CASCADE only with foreign keys switched on.
        try await database.execute("DELETE FROM jarvis_tool_calls WHERE conversation_id = \(bind: id)")
        try await database.execute("DELETE FROM jarvis_messages WHERE conversation_id = \(bind: id)")
        return !(try await database.query("DELETE FROM jarvis_conversations WHERE id = \(bind: id) RETURNING id")).isEmpty
    }

    /// Stores a message; answers it with its id.
    public func append(_ message: ConversationMessageRecord) async throws(StoreError) -> ConversationMessageRecord {
        let row = try await database.first("""
            INSERT INTO jarvis_messages (conversation_id, role, content, tool_calls, tool_call_id, state, error, provider, model,
                                         finish_reason, prompt_tokens, completion_tokens, first_token_ms, total_ms, created_at)
            VALUES (\(bind: message.conversationID), \(bind: message.role), \(bind: message.content), \(bind: message.toolCalls),
                    \(bind: message.toolCallID), \(bind: message.state), \(bind: message.error), \(bind: message.provider),
                    \(bind: message.model), \(bind: message.finishReason), \(bind: message.promptTokens), \(bind: message.completionTokens),
                    \(bind: message.firstTokenMilliseconds), \(bind: message.totalMilliseconds), \(bind: message.createdAt))
            RETURNING id
            """)
        var stored = message
        stored.id = try row?.int("id") ?? 0
        return stored
    }

    /// Stores a question and the (empty, `streaming`) answer to it in one statement; answers both
    /// with their ids. One write instead of two on the path to an answer's first token.
    public func appendExchange(
        question: ConversationMessageRecord, answer: ConversationMessageRecord
    ) async throws(StoreError) -> (question: ConversationMessageRecord, answer: ConversationMessageRecord) {
        let rows = try await database.query("""
            INSERT INTO jarvis_messages (conversation_id, role, content, state, created_at)
            VALUES (\(bind: question.conversationID), \(bind: question.role), \(bind: question.content), \(bind: question.state),
                    \(bind: question.createdAt)),
                   (\(bind: answer.conversationID), \(bind: answer.role), \(bind: answer.content), \(bind: answer.state),
                    \(bind: answer.createdAt))
            RETURNING id
            """)
        let ids = try rows.map { row throws(StoreError) in try row.int("id") }.sorted()
        guard ids.count == 2 else { throw .decoding(column: "id", expected: "two ids", found: "\(ids.count)") }
        var storedQuestion = question
        var storedAnswer = answer
        storedQuestion.id = ids[0]
        storedAnswer.id = ids[1]
        return (storedQuestion, storedAnswer)
    }

    /// Writes an answer's final content and outcome over its `streaming` row.
    public func complete(_ message: ConversationMessageRecord) async throws(StoreError) {
        try await database.execute("""
            UPDATE jarvis_messages SET content = \(bind: message.content), tool_calls = \(bind: message.toolCalls),
                state = \(bind: message.state), error = \(bind: message.error), provider = \(bind: message.provider),
                model = \(bind: message.model), finish_reason = \(bind: message.finishReason),
                prompt_tokens = \(bind: message.promptTokens), completion_tokens = \(bind: message.completionTokens),
                first_token_ms = \(bind: message.firstTokenMilliseconds), total_ms = \(bind: message.totalMilliseconds)
            WHERE id = \(bind: message.id)
            """)
    }

    public func setStreamPosition(messageID: Int64, epoch: String, offset: Int64) async throws(StoreError) {
        try await database.execute("""
            UPDATE jarvis_messages SET stream_epoch = \(bind: epoch), stream_offset = \(bind: offset) WHERE id = \(bind: messageID)
            """)
    }

    /// In the order they were written.
    public func messages(conversationID: String) async throws(StoreError) -> [ConversationMessageRecord] {
        try await database.query("SELECT * FROM jarvis_messages WHERE conversation_id = \(bind: conversationID) ORDER BY id")
            .map(Self.message)
    }

    static func conversation(_ row: SQLRow) throws(StoreError) -> ConversationRecord {
        ConversationRecord(
            id: try row.string("id"), owner: try row.string("owner"), title: try row.string("title"),
            createdAt: try row.int("created_at"), updatedAt: try row.int("updated_at"))
    }

    static func message(_ row: SQLRow) throws(StoreError) -> ConversationMessageRecord {
        ConversationMessageRecord(
            id: try row.int("id"), conversationID: try row.string("conversation_id"), role: try row.string("role"),
            content: try row.string("content"), toolCalls: row.optionalString("tool_calls"), toolCallID: row.optionalString("tool_call_id"),
            state: try row.string("state"), error: row.optionalString("error"), provider: row.optionalString("provider"),
            model: row.optionalString("model"), finishReason: row.optionalString("finish_reason"),
            promptTokens: row.optionalInt("prompt_tokens"), completionTokens: row.optionalInt("completion_tokens"),
            firstTokenMilliseconds: row.optionalInt("first_token_ms"), totalMilliseconds: row.optionalInt("total_ms"),
            streamEpoch: row.optionalString("stream_epoch"), streamOffset: row.optionalInt("stream_offset"),
            createdAt: try row.int("created_at"))
    }
}
