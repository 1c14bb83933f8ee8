/// One tool call Jarvis made or proposed, with the policy's decision, who approved it and what it returned.
public struct ToolCallRecord: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for a person with the right role to approve or reject it.
        case pending
        /// Approved, or allowed to run at once, and running now.
        case running
        case done
        case failed
        /// A person declined it.
        case rejected
        /// The policy forbids it, or the model named a tool that does not exist.
        case refused
        /// Never decided: the conversation moved on (a new question) while it waited.
        case expired

        /// Whether the call's result is final (the model has been or can be told about it).
        public var isFinal: Bool { self != .pending && self != .running }
    }

    public var id: Int64
    public var conversationID: String
    /// The assistant message whose answer asked for the call.
    public var messageID: Int64?
    /// The model's id for the call; the result goes back under it.
    public var callID: String
    public var tool: String
    /// What the tool does, as the approver saw it.
    public var description: String?
    /// The JSON text of the arguments, exactly as the model wrote them.
    public var arguments: String
    public var tier: String
    /// The policy's decision when the call was made: auto, approval or forbidden.
    public var policy: String
    public var state: State
    /// The principal the conversation belongs to (who asked Jarvis).
    public var requestedBy: String
    public var requestedAt: Int64
    public var decidedBy: String?
    public var decidedAt: Int64?
    /// The JSON text given to the model as the call's result.
    public var result: String?
    public var finishedAt: Int64?

    public init(
        id: Int64 = 0, conversationID: String, messageID: Int64?, callID: String, tool: String, description: String?, arguments: String,
        tier: String, policy: String, state: State, requestedBy: String, requestedAt: Int64, decidedBy: String? = nil,
        decidedAt: Int64? = nil, result: String? = nil, finishedAt: Int64? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.messageID = messageID
        self.callID = callID
        self.tool = tool
        self.description = description
        self.arguments = arguments
        self.tier = tier
        self.policy = policy
        self.state = state
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.result = result
        self.finishedAt = finishedAt
    }
}

/// All SQL about Jarvis's tool calls and the tool policy, in one place. State changes are
/// conditional updates, so two replicas (or two clicks) never both approve one call.
public struct ToolCallRepository: Sendable {
    let database: any Database

    public init(_ database: any Database) {
        self.database = database
    }

    /// Stores a call; answers it with its id.
    public func insert(_ call: ToolCallRecord) async throws(StoreError) -> ToolCallRecord {
        let row = try await database.first("""
            INSERT INTO jarvis_tool_calls (conversation_id, message_id, call_id, tool, description, arguments, tier, policy, state,
                                           requested_by, requested_at, decided_by, decided_at, result, finished_at)
            VALUES (\(bind: call.conversationID), \(bind: call.messageID), \(bind: call.callID), \(bind: call.tool), \(bind: call.description),
                    \(bind: call.arguments), \(bind: call.tier), \(bind: call.policy), \(bind: call.state.rawValue), \(bind: call.requestedBy),
                    \(bind: call.requestedAt), \(bind: call.decidedBy), \(bind: call.decidedAt), \(bind: call.result), \(bind: call.finishedAt))
            RETURNING id
            """)
        var stored = call
        stored.id = try row?.int("id") ?? 0
        return stored
    }

    public func find(id: Int64) async throws(StoreError) -> ToolCallRecord? {
        try await database.first("SELECT * FROM jarvis_tool_calls WHERE id = \(bind: id)").map(Self.record)
    }

    /// Oldest first.
    public func calls(conversationID: String) async throws(StoreError) -> [ToolCallRecord] {
        try await database.query("SELECT * FROM jarvis_tool_calls WHERE conversation_id = \(bind: conversationID) ORDER BY id").map(Self.record)
    }

    /// Moves a pending call to `running` (approved) or `rejected`; nil when it was not pending any more.
    public func decide(id: Int64, to state: ToolCallRecord.State, by decider: String, at time: Int64, result: String? = nil) async throws(StoreError) -> ToolCallRecord? {
        let finished: Int64? = state.isFinal ? time : nil
        return try await database.first("""
            UPDATE jarvis_tool_calls SET state = \(bind: state.rawValue), decided_by = \(bind: decider), decided_at = \(bind: time),
                   result = \(bind: result), finished_at = \(bind: finished)
            WHERE id = \(bind: id) AND state = 'pending'
            RETURNING *
            """).map(Self.record)
    }

    /// Records how a running call ended.
    public func finish(id: Int64, state: ToolCallRecord.State, result: String, at time: Int64) async throws(StoreError) -> ToolCallRecord? {
        try await database.first("""
            UPDATE jarvis_tool_calls SET state = \(bind: state.rawValue), result = \(bind: result), finished_at = \(bind: time)
            WHERE id = \(bind: id)
            RETURNING *
            """).map(Self.record)
    }

    /// Expires the conversation's pending calls (it moved on without deciding them); answers them.
    public func expirePending(conversationID: String, result: String, at time: Int64) async throws(StoreError) -> [ToolCallRecord] {
        try await database.query("""
            UPDATE jarvis_tool_calls SET state = 'expired', result = \(bind: result), finished_at = \(bind: time)
            WHERE conversation_id = \(bind: conversationID) AND state = 'pending'
            RETURNING *
            """).map(Self.record)
    }

    /// The decisions an admin set, by tool.
    public func policyOverrides() async throws(StoreError) -> [String: String] {
        var overrides: [String: String] = [:]
        for row in try await database.query("SELECT tool, decision FROM jarvis_tool_policy") {
            overrides[try row.string("tool")] = try row.string("decision")
        }
        return overrides
    }

    /// Replaces every override at once (a tool absent from `overrides` follows its tier's default).
    public func replacePolicy(_ overrides: [String: String], by actor: String, at time: Int64) async throws {
        try await database.transaction { sql in
            try await sql.execute("DELETE FROM jarvis_tool_policy")
            for (tool, decision) in overrides.sorted(by: { $0.key < $1.key }) {
                try await sql.execute("""
                    INSERT INTO jarvis_tool_policy (tool, decision, updated_by, updated_at)
                    VALUES (\(bind: tool), \(bind: decision), \(bind: actor), \(bind: time))
                    """)
            }
        }
    }

    static func record(_ row: SQLRow) throws(StoreError) -> ToolCallRecord {
        let stateText = try row.string("state")
        guard let state = ToolCallRecord.State(rawValue: stateText) else {
            throw StoreError.decoding(column: "jarvis_tool_calls.state", expected: "a tool call state", found: stateText)
        }
        return ToolCallRecord(
            id: try row.int("id"), conversationID: try row.string("conversation_id"), messageID: row.optionalInt("message_id"),
            callID: try row.string("call_id"), tool: try row.string("tool"), description: row.optionalString("description"),
            arguments: try row.string("arguments"), tier: try row.string("tier"), policy: try row.string("policy"), state: state,
            requestedBy: try row.string("requested_by"), requestedAt: try row.int("requested_at"), decidedBy: row.optionalString("decided_by"),
            decidedAt: row.optionalInt("decided_at"), result: row.optionalString("result"), finishedAt: row.optionalInt("finished_at"))
    }
}
