import Foundation
import Hummingbird
import Jarvis
import Realtime
import Store

/// `/api/v1/jarvis/conversations`: a principal's conversations with Jarvis (admins see everyone's
/// with `?all=true`). Asking starts an answer and names the channel it streams on.
struct JarvisRoutes {
    let service: JarvisService
    let authenticator: any Authenticator
    let audit: any AuditSink

    static let maxQuestionBytes = 32 * 1024
    static let maxTitleLength = 200

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/jarvis/conversations")
        group.get { request, _ in try await list(request) }
        group.post { request, _ in try await create(request) }
        group.get(":id") { request, context in try await show(request, context: context) }
        group.patch(":id") { request, context in try await rename(request, context: context) }
        group.delete(":id") { request, context in try await delete(request, context: context) }
        group.post(":id/messages") { request, context in try await ask(request, context: context) }
        group.post(":id/cancel") { request, context in try await cancel(request, context: context) }
        group.post(":id/tool-calls/:call/approve") { request, context in try await decide(request, context: context, approve: true) }
        group.post(":id/tool-calls/:call/reject") { request, context in try await decide(request, context: context, approve: false) }
    }

    private func reader(_ request: Request) async throws -> Principal {
        let principal = try await request.principal(using: authenticator)
        guard principal.has(.read) else { throw APIError(.forbidden, code: "forbidden", "talking to Jarvis needs the read scope") }
        return principal
    }

    /// The conversation, if this principal may see it; 404 otherwise (not 403: its existence is private).
    private func conversation(_ context: NebulaRequestContext, for principal: Principal) async throws -> ConversationRecord {
        let id = context.parameters.get("id") ?? ""
        guard let found = try await service.conversations.find(id: id), JarvisConversationOwners.mayRead(found, principal: principal) else {
            throw APIError(.notFound, code: "not_found", "no conversation '\(id)'")
        }
        return found
    }

    private func list(_ request: Request) async throws -> Response {
        let principal = try await reader(request)
        let everyone = request.uri.queryParameters.get("all") == "true"
        if everyone, !principal.has(.admin) {
            throw APIError(.forbidden, code: "forbidden", "listing everyone's conversations needs the admin role or scope")
        }
        // Operators and admins also see where the server asks them to decide: maintenance suggestions,
        // outside agents' calls.
        let found = try await service.conversations.list(
            owner: everyone ? nil : principal.id, limit: 200, shared: principal.has(.containers) ? (MaintenanceAdvisor.owner, "mcp-") : nil)
        var w = JSONWriter()
        w.raw("{\"result\":{\"conversations\":[")
        for (i, conversation) in found.enumerated() {
            if i > 0 { w.raw(",") }
            write(conversation, into: &w)
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    private func create(_ request: Request) async throws -> Response {
        let principal = try await reader(request)
        let body = try await request.jsonObject(upTo: 16 * 1024, expecting: "{\"title\": \"...\"} (title optional)")
        let title = try Self.title(try body.optionalString("title") ?? "New conversation")
        let now = Clock.nowMilliseconds()
        let conversation = ConversationRecord(id: UUID().uuidString.lowercased(), owner: principal.id, title: title, createdAt: now, updatedAt: now)
        try await service.conversations.create(conversation)
        var w = JSONWriter()
        w.raw("{\"result\":")
        write(conversation, into: &w)
        w.raw("}")
        return .json(w.bytes, status: .created)
    }

    private func show(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let conversation = try await conversation(context, for: try await reader(request))
        let messages = try await service.conversations.messages(conversationID: conversation.id)
        let toolCalls = try await service.tools.toolbox.calls.calls(conversationID: conversation.id)
        var w = JSONWriter()
        w.raw("{\"result\":")
        write(conversation, into: &w, closed: false)
        w.raw(",\"answering\":")
        // Answering, running a tool, or between the two — here or (as far as the rows show) on another replica.
        w.bool(service.isAnswering(conversation.id) || messages.last?.state == "streaming" || toolCalls.contains { $0.state == .running })
        w.raw(",\"messages\":[")
        for (i, message) in messages.enumerated() {
            if i > 0 { w.raw(",") }
            write(message, into: &w)
        }
        w.raw("],\"tool_calls\":")
        w.raw(JSONValue.array(toolCalls.map { $0.jsonValue(requiredRole: service.tools.requiredRole(of: $0.tool)) }).jsonBytes)
        w.raw("}}")
        return .json(w.bytes)
    }

    private func rename(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let conversation = try await conversation(context, for: try await reader(request))
        let body = try await request.jsonObject(upTo: 16 * 1024, expecting: "{\"title\": \"...\"}")
        let title = try Self.title(try body.requiredString("title"))
        let now = Clock.nowMilliseconds()
        guard try await service.conversations.rename(id: conversation.id, title: title, at: now) else {
            throw APIError(.notFound, code: "not_found", "no conversation '\(conversation.id)'")
        }
        var renamed = conversation
        renamed.title = title
        renamed.updatedAt = now
        var w = JSONWriter()
        w.raw("{\"result\":")
        write(renamed, into: &w)
        w.raw("}")
        return .json(w.bytes)
    }

    private func delete(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await reader(request)
        let conversation = try await conversation(context, for: principal)
        _ = service.cancel(conversation.id)
        guard try await service.conversations.delete(id: conversation.id) else {
            throw APIError(.notFound, code: "not_found", "no conversation '\(conversation.id)'")
        }
        try await audit.append(principal.audit("jarvis.conversation.delete", target: conversation.id, from: context.clientAddress))
        return .emptyResult
    }

    private func ask(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await reader(request)
        let conversation = try await conversation(context, for: principal)
        let body = try await request.jsonObject(upTo: Self.maxQuestionBytes + 1024, expecting: "{\"content\": \"...\"}")
        let content = try body.requiredString("content")
        guard !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, content.utf8.count <= Self.maxQuestionBytes else {
            throw APIError(.badRequest, code: "bad_request", "content must be 1 to \(Self.maxQuestionBytes) bytes of text")
        }
        let started: JarvisService.Started
        do {
            started = try await service.ask(content, in: conversation, by: principal)
        } catch JarvisService.AskError.busy {
            throw APIError(.conflict, code: "answer_in_progress", "Jarvis is still answering in this conversation; wait for it or cancel it")
        }
        var w = JSONWriter()
        w.raw("{\"result\":{\"channel\":")
        w.string(started.channel)
        w.raw(",\"question\":")
        write(started.question, into: &w)
        w.raw(",\"answer\":")
        write(started.answer, into: &w)
        w.raw("}}")
        return .json(w.bytes, status: .accepted)
    }

    private func cancel(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let conversation = try await conversation(context, for: try await reader(request))
        let cancelled = try await service.cancelAnywhere(conversation.id)
        return .json(Array("{\"result\":{\"cancelled\":\(cancelled)}}".utf8))
    }

    /// Approve (needs the role the tool names) or reject (anyone who sees the conversation) a
    /// pending tool call; the call runs, or not, and the turn goes on once no call waits.
    private func decide(_ request: Request, context: NebulaRequestContext, approve: Bool) async throws -> Response {
        let principal = try await reader(request)
        let conversation = try await conversation(context, for: principal)
        guard let id = context.parameters.get("call").flatMap(Int64.init) else {
            throw APIError(.notFound, code: "not_found", "tool calls are named by their numeric id")
        }
        let body = try await request.jsonObject(upTo: 16 * 1024, expecting: "{\"reason\": \"...\"} (optional)", allowEmpty: true)
        let reason = try body.optionalString("reason").map { String($0.prefix(500)) }
        let decided: ToolCallRecord
        do {
            decided = approve
                ? try await service.approve(toolCall: id, in: conversation, by: principal, from: context.clientAddress)
                : try await service.reject(toolCall: id, in: conversation, by: principal, reason: reason, from: context.clientAddress)
        } catch let error as ToolDecisionError {
            switch error {
            case .notFound(let id): throw APIError(.notFound, code: "not_found", "no tool call \(id) in this conversation")
            case .notPending(let id, let state): throw APIError(.conflict, code: "already_decided", "tool call \(id) is \(state), not pending")
            case .forbidden(let tool, let role): throw APIError(.forbidden, code: "forbidden", "approving '\(tool)' needs the \(role) role")
            }
        }
        var w = JSONWriter()
        w.raw("{\"result\":{\"tool_call\":")
        w.raw(decided.jsonValue(requiredRole: service.tools.requiredRole(of: decided.tool)).jsonBytes)
        w.raw("}}")
        return .json(w.bytes, status: approve ? .accepted : .ok)
    }

    static func title(_ text: String) throws -> String {
        let title = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.count <= maxTitleLength else {
            throw APIError(.badRequest, code: "bad_request", "a title is 1 to \(maxTitleLength) characters")
        }
        return title
    }

    /// `closed: false` leaves the object open for more members.
    private func write(_ conversation: ConversationRecord, into w: inout JSONWriter, closed: Bool = true) {
        w.raw("{\"id\":")
        w.string(conversation.id)
        w.raw(",\"title\":")
        w.string(conversation.title)
        w.raw(",\"channel\":")
        w.string(JarvisConversationOwners.channel(of: conversation.id))
        w.raw(",\"owner\":")
        w.string(conversation.owner)
        w.raw(",\"created_at\":")
        w.string(Timestamp.rfc3339(conversation.createdAt))
        w.raw(",\"updated_at\":")
        w.string(Timestamp.rfc3339(conversation.updatedAt))
        if closed { w.raw("}") }
    }

    private func write(_ message: ConversationMessageRecord, into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.integer(message.id)
        w.raw(",\"role\":")
        w.string(message.role)
        w.raw(",\"content\":")
        w.string(message.content)
        w.raw(",\"state\":")
        w.string(message.state)
        for (key, value) in [("error", message.error), ("provider", message.provider), ("model", message.model), ("finish_reason", message.finishReason)] {
            w.raw(",\"")
            w.raw(Array(key.utf8))
            w.raw("\":")
            if let value { w.string(value) } else { w.raw("null") }
        }
        w.raw(",\"tool_calls\":")
        if let calls = message.toolCalls { w.raw(Array(calls.utf8)) } else { w.raw("[]") }
        w.raw(",\"tool_call_id\":")
        w.optionalString(message.toolCallID)
        w.raw(",\"usage\":{\"prompt_tokens\":")
        if let tokens = message.promptTokens { w.integer(tokens) } else { w.raw("null") }
        w.raw(",\"completion_tokens\":")
        if let tokens = message.completionTokens { w.integer(tokens) } else { w.raw("null") }
        w.raw("},\"latency\":{\"first_token_ms\":")
        if let ms = message.firstTokenMilliseconds { w.integer(ms) } else { w.raw("null") }
        w.raw(",\"total_ms\":")
        if let ms = message.totalMilliseconds { w.integer(ms) } else { w.raw("null") }
        w.raw("},\"stream\":")
        if let epoch = message.streamEpoch, let offset = message.streamOffset {
            w.raw("{\"epoch\":")
            w.string(epoch)
            w.raw(",\"offset\":")
            w.integer(offset)
            w.raw("}")
        } else {
            w.raw("null")
        }
        w.raw(",\"created_at\":")
        w.string(Timestamp.rfc3339(message.createdAt))
        w.raw("}")
    }
}
