import Jarvis
import Logging
import Realtime
import Store

/// Why a person's decision on a tool call was not taken.
enum ToolDecisionError: Error, Equatable {
    case notFound(Int64)
    /// Already approved, rejected, run or expired.
    case notPending(Int64, state: String)
    /// The decider lacks the role the tool needs.
    case forbidden(tool: String, role: String)
}

/// Everything that happens to the tool calls an answer asked for: the policy's decision, running
/// the ones allowed at once, approval requests for the others, a person's decision, the result as
/// a `tool` message for the model — each step stored, published on the conversation's channel as
/// a `tool.call` event, and audited with the conversation that asked.
struct ToolCallHandler: Sendable {
    let toolbox: JarvisToolbox
    let conversations: ConversationRepository
    let hub: Hub
    let audit: any AuditSink
    let logger: Logger

    var calls: ToolCallRepository { toolbox.calls }

    /// Handles the calls of an answer that ended asking for tools; true when some wait for approval.
    /// `mayRunUnapproved` tells which scopes whoever Jarvis acts for holds.
    func handle(
        _ requested: [ChatMessage.ToolCall], answer: ConversationMessageRecord, channel: String, actor: Principal,
        mayRunUnapproved: @Sendable (Principal.Scope) -> Bool
    ) async -> Bool {
        let policy: ToolPolicy
        do {
            policy = try await toolbox.policy()
        } catch {
            // Without the policy nothing may run: every call is answered with why.
            logger.error("tool policy not readable", metadata: ["error": "\(error)"])
            for call in requested {
                await settle(call, conversationID: answer.conversationID, messageID: answer.id, channel: channel, tool: nil, policy: .forbidden,
                             result: .failure(ToolError(.failed, "the tool policy could not be read")), actor: actor)
            }
            return false
        }
        var waiting = false
        for call in requested {
            switch ToolInvocation.plan(call, catalog: toolbox.catalog, policy: policy, mayRunUnapproved: mayRunUnapproved) {
            case .refuse(let tool, let error):
                await settle(call, conversationID: answer.conversationID, messageID: answer.id, channel: channel, tool: tool,
                             policy: tool.map(policy.decision(for:)) ?? .forbidden, result: .failure(error), actor: actor)
            case .approval(let tool, _):
                waiting = true
                await request(call, conversationID: answer.conversationID, messageID: answer.id, channel: channel, tool: tool,
                              policy: policy.decision(for: tool), actor: actor)
            case .run(let tool, let arguments):
                let running = await store(Self.record(
                    call, conversationID: answer.conversationID, messageID: answer.id, tool: tool, policy: .auto, state: .running, actor: actor))
                guard let running else { continue }
                await publish(running, on: channel)
                await run(running, tool: tool, arguments: arguments, channel: channel, actor: actor)
            }
        }
        return waiting
    }

    /// Approves a pending call for `principal` if they hold what the tool needs; the caller then runs it.
    func approve(_ id: Int64, in conversationID: String, by principal: Principal, from address: String?) async throws -> ToolCallRecord {
        let call = try await pendingCall(id, in: conversationID)
        let tool = toolbox.catalog.tool(named: call.tool)
        if let scope = tool?.requiredScope, !principal.has(scope) {
            let role = Self.role(for: scope) ?? "admin"
            try await audit.append(principal.audit("jarvis.tool.approve", target: conversationID, from: address, outcome: "denied",
                                                   details: "\(call.tool) (call \(call.id)) needs the \(role) role"))
            throw ToolDecisionError.forbidden(tool: call.tool, role: role)
        }
        guard let approved = try await calls.decide(id: id, to: .running, by: principal.displayName, at: Clock.nowMilliseconds()) else {
            throw ToolDecisionError.notPending(id, state: (try await calls.find(id: id))?.state.rawValue ?? "gone")
        }
        try await audit.append(principal.audit("jarvis.tool.approve", target: conversationID, from: address,
                                               details: "\(approved.tool) (call \(approved.id)) \(approved.arguments)"))
        await publish(approved, on: JarvisConversationOwners.channel(of: conversationID))
        return approved
    }

    /// Runs an approved call (one `approve` answered).
    func runApproved(_ call: ToolCallRecord, actor: Principal) async {
        let channel = JarvisConversationOwners.channel(of: call.conversationID)
        guard let tool = toolbox.catalog.tool(named: call.tool) else {
            await finish(call, result: .failure(ToolError(.unknownTool, "there is no tool '\(call.tool)' any more")), channel: channel, actor: actor)
            return
        }
        let arguments = (try? JSONParser.parse(call.arguments.isEmpty ? "{}" : call.arguments)) ?? .object([])
        await run(call, tool: tool, arguments: arguments, channel: channel, actor: actor)
    }

    /// Declines a pending call; anyone who may see the conversation may.
    func reject(_ id: Int64, in conversationID: String, by principal: Principal, reason: String?, from address: String?) async throws -> ToolCallRecord {
        _ = try await pendingCall(id, in: conversationID)
        let because = reason.map { ": \($0)" } ?? ""
        let result = ToolInvocation.resultText(.failure(ToolError(.rejected, "\(principal.displayName) declined this call\(because)")))
        guard let rejected = try await calls.decide(id: id, to: .rejected, by: principal.displayName, at: Clock.nowMilliseconds(), result: result) else {
            throw ToolDecisionError.notPending(id, state: (try await calls.find(id: id))?.state.rawValue ?? "gone")
        }
        try await audit.append(principal.audit("jarvis.tool.reject", target: conversationID, from: address,
                                               details: "\(rejected.tool) (call \(rejected.id)) \(rejected.arguments)\(because)"))
        try await appendResult(of: rejected)
        await publish(rejected, on: JarvisConversationOwners.channel(of: conversationID))
        return rejected
    }

    /// Expires the calls still waiting when the conversation moves on (a new question), so the model
    /// hears that they never ran.
    func expirePending(conversationID: String) async throws {
        let result = ToolInvocation.resultText(.failure(ToolError(.expired, "nobody approved this call before the next question")))
        for call in try await calls.expirePending(conversationID: conversationID, result: result, at: Clock.nowMilliseconds()) {
            try await appendResult(of: call)
            await publish(call, on: JarvisConversationOwners.channel(of: conversationID))
        }
    }

    /// Whether a call asked for by this answer or a later one is running.
    func hasRunningCall(after answerID: Int64, in conversationID: String) async throws -> Bool {
        try await calls.calls(conversationID: conversationID).contains { $0.state == .running && ($0.messageID ?? 0) >= answerID }
    }

    /// Whether any call of the conversation still waits for a decision or runs.
    func hasOpenCalls(conversationID: String) async throws -> Bool {
        try await calls.calls(conversationID: conversationID).contains { !$0.state.isFinal }
    }

    func requiredRole(of toolName: String) -> String? {
        toolbox.catalog.tool(named: toolName)?.requiredScope.flatMap(Self.role(for:))
    }

    func publish(_ call: ToolCallRecord, on channel: String) async {
        let event = JSONValue.object([
            ("type", .string("tool.call")),
            ("answer", call.messageID.map { .number(String($0)) } ?? .null),
            ("tool_call", call.jsonValue(requiredRole: requiredRole(of: call.tool))),
        ])
        let hub = self.hub
        do {
            // In a task of its own, like the writes: a stopped answer still tells clients how its call ended.
            _ = try await Task { try await hub.publish(event, to: channel, by: .server) }.value
        } catch {
            logger.error("tool call event not published", metadata: ["channel": "\(channel)", "call": "\(call.id)", "error": "\(error)"])
        }
    }

    // MARK: - Steps

    private func pendingCall(_ id: Int64, in conversationID: String) async throws -> ToolCallRecord {
        guard let call = try await calls.find(id: id), call.conversationID == conversationID else { throw ToolDecisionError.notFound(id) }
        guard call.state == .pending else { throw ToolDecisionError.notPending(id, state: call.state.rawValue) }
        return call
    }

    private func run(_ call: ToolCallRecord, tool: any JarvisTool, arguments: JSONValue, channel: String, actor: Principal) async {
        let result = await ToolInvocation.execute(tool, arguments)
        await finish(call, result: result, channel: channel, actor: actor)
    }

    func finish(_ call: ToolCallRecord, result: Result<JSONValue, ToolError>, channel: String, actor: Principal) async {
        let text = ToolInvocation.resultText(result)
        let failure: ToolError? = if case .failure(let error) = result { error } else { nil }
        let calls = self.calls
        // Stored outside the answer's task: a stopped answer still records how its tool call ended.
        let finished = await Task {
            try? await calls.finish(id: call.id, state: failure == nil ? .done : .failed, result: text, at: Clock.nowMilliseconds())
        }.value
        var settled = finished ?? call
        if finished == nil { settled.result = text; settled.state = failure == nil ? .done : .failed }
        let ended = settled
        await durably { try await appendResult(of: ended) }
        await durably {
            try await audit.append(actor.audit("jarvis.tool.run", target: call.conversationID, from: nil, outcome: failure == nil ? "ok" : "failed",
                                               details: "\(call.tool) (call \(call.id)) \(call.arguments)\(failure.map { " — \($0)" } ?? "")"))
        }
        await publish(ended, on: channel)
    }

    /// Records a call that never runs, with why; answers it as stored.
    @discardableResult
    func settle(
        _ call: ChatMessage.ToolCall, conversationID: String, messageID: Int64?, channel: String, tool: (any JarvisTool)?,
        policy: ToolPolicy.Decision, result: Result<JSONValue, ToolError>, actor: Principal
    ) async -> ToolCallRecord? {
        var record = Self.record(call, conversationID: conversationID, messageID: messageID, tool: tool, policy: policy, state: .refused, actor: actor)
        record.result = ToolInvocation.resultText(result)
        record.finishedAt = record.requestedAt
        guard let stored = await store(record) else { return nil }
        await durably { try await appendResult(of: stored) }
        await durably {
            try await audit.append(actor.audit("jarvis.tool.run", target: conversationID, from: nil,
                                               outcome: "denied", details: "\(call.name) (call \(stored.id)) \(call.arguments) — \(stored.result ?? "")"))
        }
        await publish(stored, on: channel)
        return stored
    }

    /// Records a call that waits for a person, and shows its approval card; answers it as stored.
    func request(
        _ call: ChatMessage.ToolCall, conversationID: String, messageID: Int64?, channel: String, tool: any JarvisTool, policy: ToolPolicy.Decision,
        actor: Principal
    ) async -> ToolCallRecord? {
        let record = Self.record(call, conversationID: conversationID, messageID: messageID, tool: tool, policy: policy, state: .pending, actor: actor)
        guard let stored = await store(record) else { return nil }
        await durably {
            try await audit.append(actor.audit("jarvis.tool.request", target: conversationID, from: nil, outcome: "pending",
                                               details: "\(call.name) (call \(stored.id)) \(call.arguments)\(messageID == nil ? " via MCP" : "")"))
        }
        await publish(stored, on: channel)
        return stored
    }

    /// The result as a `tool` message the model reads next; calls from outside agents (MCP) belong
    /// to no answer and have no model to tell.
    private func appendResult(of call: ToolCallRecord) async throws {
        guard call.messageID != nil else { return }
        _ = try await conversations.append(ConversationMessageRecord(
            conversationID: call.conversationID, role: "tool", content: call.result ?? "", toolCallID: call.callID, state: "complete",
            createdAt: Clock.nowMilliseconds()))
    }

    func store(_ record: ToolCallRecord) async -> ToolCallRecord? {
        let calls = self.calls
        do {
            return try await Task { try await calls.insert(record) }.value
        } catch {
            logger.error("tool call not stored", metadata: ["conversation": "\(record.conversationID)", "tool": "\(record.tool)", "error": "\(error)"])
            return nil
        }
    }

    /// Runs a write in a task of its own, so an answer being stopped cannot cut it off; logs a failure.
    func durably(_ write: @escaping @Sendable () async throws -> Void) async {
        let logger = self.logger
        await Task {
            do {
                try await write()
            } catch {
                logger.error("tool call bookkeeping failed", metadata: ["error": "\(error)"])
            }
        }.value
    }

    /// `messageID`: the answer that asked; nil for an outside agent's call.
    static func record(
        _ call: ChatMessage.ToolCall, conversationID: String, messageID: Int64?, tool: (any JarvisTool)?, policy: ToolPolicy.Decision,
        state: ToolCallRecord.State, actor: Principal
    ) -> ToolCallRecord {
        ToolCallRecord(
            conversationID: conversationID, messageID: messageID, callID: call.id, tool: call.name, description: tool?.description,
            arguments: call.arguments, tier: tool?.tier.rawValue ?? "unknown", policy: policy.rawValue, state: state,
            requestedBy: actor.displayName, requestedAt: Clock.nowMilliseconds())
    }

    static func role(for scope: Principal.Scope) -> String? {
        switch scope {
        case .containers, .jobs: "operator"
        case .admin: "admin"
        case .read, .publish, .publishFamily: nil
        }
    }
}
