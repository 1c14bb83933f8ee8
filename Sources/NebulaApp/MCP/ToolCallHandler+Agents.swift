import Foundation
import Jarvis
import Realtime
import ServiceLifecycle
import Store

/// Tool calls from outside agents (MCP): the chat's handling without a model — no answer to attach
/// to, a person's decision awaited by the agent's own request.
extension ToolCallHandler {
    /// A call from an outside agent (MCP) under the same policy: stored in the agent's own
    /// conversation (`mcp-<principal>`, where admins see and decide its approval cards), run at once
    /// when allowed, else held until a person approves or rejects it — or `approvalWait` passes, and
    /// it expires without running.
    func callForAgent(
        _ name: String, arguments: String, by principal: Principal, approvalWait: Duration
    ) async throws -> (call: ToolCallRecord?, result: Result<JSONValue, ToolError>) {
        let conversation = try await agentConversation(for: principal)
        let call = ChatMessage.ToolCall(id: "mcp-\(UUID().uuidString.lowercased())", name: name, arguments: arguments)
        let channel = JarvisConversationOwners.channel(of: conversation.id)
        let policy = try await toolbox.policy()
        switch ToolInvocation.plan(call, catalog: toolbox.catalog, policy: policy, mayRunUnapproved: principal.has) {
        case .refuse(let tool, let error):
            let refused = await settle(
                call, conversationID: conversation.id, messageID: nil, channel: channel, tool: tool,
                policy: tool.map(policy.decision(for:)) ?? .forbidden, result: .failure(error), actor: principal)
            return (refused, .failure(error))
        case .run(let tool, let arguments):
            let record = Self.record(call, conversationID: conversation.id, messageID: nil, tool: tool, policy: .auto, state: .running, actor: principal)
            guard let running = await store(record) else { throw ToolError(.failed, "the call could not be recorded, so it did not run") }
            await publish(running, on: channel)
            let result = await ToolInvocation.execute(tool, arguments)
            await finish(running, result: result, channel: channel, actor: principal)
            return (running, result)
        case .approval(let tool, _):
            guard let pending = await request(
                call, conversationID: conversation.id, messageID: nil, channel: channel, tool: tool, policy: policy.decision(for: tool), actor: principal)
            else { throw ToolError(.failed, "the approval request could not be recorded") }
            return (pending, try await awaitDecision(on: pending, wait: approvalWait, channel: channel))
        }
    }

    /// Polls the store (the decision may come from any replica) until the call's result is final.
    private func awaitDecision(on call: ToolCallRecord, wait: Duration, channel: String) async throws -> Result<JSONValue, ToolError> {
        let deadline = ContinuousClock.now + wait
        while true {
            if let current = try await calls.find(id: call.id), current.state.isFinal {
                return Self.result(of: current)
            }
            // A server shutting down does not wait for people: the agent hears the call expired.
            let stopping = Task.isShuttingDownGracefully || Task.isCancelled
            if ContinuousClock.now >= deadline || stopping {
                let reason = stopping ? "the server is shutting down" : "nobody approved this call within \(wait)"
                let text = ToolInvocation.resultText(.failure(ToolError(.expired, reason)))
                if let expired = try await calls.decide(id: call.id, to: .expired, by: "nobody", at: Clock.nowMilliseconds(), result: text) {
                    await publish(expired, on: channel)
                    return Self.result(of: expired)
                }
                continue  // decided at the last moment: read how
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The outcome a stored result text says.
    static func result(of call: ToolCallRecord) -> Result<JSONValue, ToolError> {
        guard let text = call.result, let value = try? JSONParser.parse(text) else {
            return .failure(ToolError(.failed, "the call ended without a result"))
        }
        if value["ok"] == .bool(true) { return .success(value["result"] ?? .null) }
        let code = value["error"]?["code"]?.stringValue.flatMap(ToolError.Code.init(rawValue:)) ?? .failed
        return .failure(ToolError(code, value["error"]?["message"]?.stringValue ?? "failed"))
    }

    /// The conversation an outside agent's calls are kept in, created on its first call.
    private func agentConversation(for principal: Principal) async throws -> ConversationRecord {
        let id = "mcp-" + String(principal.id.map { $0.isLetter || $0.isNumber ? $0 : "-" })
        if let existing = try await conversations.find(id: id) { return existing }
        let now = Clock.nowMilliseconds()
        let created = ConversationRecord(id: id, owner: principal.id, title: "MCP: \(principal.displayName)", createdAt: now, updatedAt: now)
        do {
            try await conversations.create(created)
        } catch {
            // Created by a concurrent first call.
            if let existing = try await conversations.find(id: id) { return existing }
            throw error
        }
        return created
    }
}
