import Foundation
import Jarvis
import Logging
import NIOConcurrencyHelpers
import Realtime
import Store

/// Jarvis in the server: starts answers, streams them onto `jarvis.<conversation-id>` through
/// the hub (so any replica's subscribers see them and a reload recovers them with `since`), stores
/// each answer with its outcome, and stops one on request.
///
/// One question is a turn of up to `maxRounds` answers: when an answer ends asking for tools, the
/// tools the policy allows run at once (`ToolCallHandler`) and the next answer reads their results;
/// when some wait for a person, the turn pauses and an approval or rejection resumes it.
final class JarvisService: Sendable {
    enum AskError: Error {
        case busy
    }

    struct Started: Sendable {
        let channel: String
        let question: ConversationMessageRecord
        let answer: ConversationMessageRecord
    }

    static let systemPrompt = """
        You are Jarvis, the assistant of a self-hosted homelab command center. Answer briefly and \
        concretely; use Markdown for lists and code. Use the tools to look at the real state of the \
        host and its containers before answering questions about them. Tools that change something \
        run only after a person approves them: propose them with the exact arguments.
        """
    /// Answers per turn; the last one is asked without tools, so a turn always ends in words.
    static let maxRounds = 5

    let conversations: ConversationRepository
    let providers: JarvisProviders
    let tools: ToolCallHandler
    private let hub: Hub
    private let batchInterval: Duration
    private let logger: Logger
    /// Answers running on this replica, by conversation.
    private let running = NIOLockedValueBox([String: Task<Void, Never>]())
    /// Conversations whose question has had its last answer (`answer.end` is out) and only stores it:
    /// a follow-up asked in that moment waits for it instead of being told Jarvis is busy.
    private let finishing = NIOLockedValueBox(Set<String>())
    /// A `streaming` answer this old that no replica finished was orphaned by a replica that stopped.
    static let orphanedAfter: Int64 = 15 * 60 * 1000
    private let listenerIDs = NIOLockedValueBox(UInt64(1) << 62)

    init(
        conversations: ConversationRepository, providers: JarvisProviders, tools: ToolCallHandler, hub: Hub, batchInterval: Duration = .milliseconds(40),
        logger: Logger
    ) {
        self.conversations = conversations
        self.providers = providers
        self.tools = tools
        self.hub = hub
        self.batchInterval = batchInterval
        self.logger = logger
    }

    /// Stores the question and an empty answer, then streams the answer in the background.
    func ask(_ content: String, in conversation: ConversationRecord, by principal: Principal) async throws -> Started {
        do {
            try claim(conversation.id)
        } catch AskError.busy where finishing.withLockedValue({ $0.contains(conversation.id) }) {
            await running.withLockedValue({ $0[conversation.id] })?.value
            try claim(conversation.id)
        }
        do {
            var history = try await conversations.messages(conversationID: conversation.id)
            let now = Clock.nowMilliseconds()
            if var last = history.last, last.state == "streaming" {
                // Another replica is answering here — or was, and stopped before it could finish.
                guard now - last.createdAt > Self.orphanedAfter else { throw AskError.busy }
                last.state = "interrupted"
                last.error = "the replica streaming this answer stopped"
                try await conversations.complete(last)
                history[history.count - 1] = last
            }
            if Self.hasUnansweredToolCalls(history) {
                // The model must hear that the calls it asked for never ran before it reads the question.
                try await tools.expirePending(conversationID: conversation.id)
                history = try await conversations.messages(conversationID: conversation.id)
            }
            // The provider starts on the question while it is being stored: time to first token is
            // the provider's, not the provider's plus our writes. A chain that cannot be read fails
            // the answer below, with its reason, like any provider failure.
            let started = ContinuousClock.now
            let stream = await startStream(history: history, question: content, withTools: true)
            let (question, answer) = try await conversations.appendExchange(
                question: ConversationMessageRecord(conversationID: conversation.id, role: "user", content: content, state: "complete", createdAt: now),
                answer: ConversationMessageRecord(conversationID: conversation.id, role: "assistant", content: "", state: "streaming", createdAt: now))
            let channel = startTurn(stream, answer: answer, in: conversation, started: started, for: principal)
            try? await conversations.touch(id: conversation.id, at: now)  // only the list's order
            return Started(channel: channel, question: question, answer: answer)
        } catch {
            running.withLockedValue { $0[conversation.id] = nil }
            throw error
        }
    }

    /// Approves a pending tool call, runs it, and resumes the turn once no call waits any more.
    func approve(toolCall id: Int64, in conversation: ConversationRecord, by principal: Principal, from address: String?) async throws -> ToolCallRecord {
        let approved = try await tools.approve(id, in: conversation.id, by: principal, from: address)
        // The run counts as the conversation's work, so Stop reaches it (here, or through another replica).
        let claimed = (try? claim(conversation.id)) != nil
        let channel = JarvisConversationOwners.channel(of: conversation.id)
        let task = Task {
            let stopListening = self.listenForStop(from: approved.messageID ?? 0, channel: channel, conversationID: conversation.id)
            await tools.runApproved(approved, actor: principal)
            stopListening()
            if claimed { running.withLockedValue { $0[conversation.id] = nil } }
            // An outside agent's call (MCP) has no answer to continue: the agent waits for the result itself.
            guard !Task.isCancelled, approved.messageID != nil, Self.continuesAfterDecisions(conversation.id) else { return }
            await resumeIfSettled(conversation, by: principal)
        }
        if claimed { running.withLockedValue { $0[conversation.id] = task } }
        return approved
    }

    /// Declines a pending tool call and resumes the turn once no call waits any more.
    func reject(toolCall id: Int64, in conversation: ConversationRecord, by principal: Principal, reason: String?, from address: String?) async throws -> ToolCallRecord {
        let rejected = try await tools.reject(id, in: conversation.id, by: principal, reason: reason, from: address)
        if rejected.messageID != nil, Self.continuesAfterDecisions(conversation.id) { Task { await resumeIfSettled(conversation, by: principal) } }
        return rejected
    }

    /// Whether a decided call goes back to the model: in a chat, yes; the Maintenance conversation
    /// and an outside agent's have no model waiting.
    static func continuesAfterDecisions(_ conversationID: String) -> Bool {
        conversationID != MaintenanceAdvisor.conversationID && !conversationID.hasPrefix("mcp-")
    }

    /// Starts the next answer of a paused turn: the model reads the decided calls' results.
    private func resumeIfSettled(_ conversation: ConversationRecord, by principal: Principal) async {
        do {
            guard try await !tools.hasOpenCalls(conversationID: conversation.id) else { return }
            // A question asked meanwhile carries the results itself.
            try claim(conversation.id)
        } catch {
            return
        }
        do {
            let history = try await conversations.messages(conversationID: conversation.id)
            guard history.last?.role == "tool" else {
                running.withLockedValue { $0[conversation.id] = nil }
                return
            }
            let started = ContinuousClock.now
            let stream = await startStream(history: history, question: nil, withTools: true)
            let answer = try await conversations.append(ConversationMessageRecord(
                conversationID: conversation.id, role: "assistant", content: "", state: "streaming", createdAt: Clock.nowMilliseconds()))
            startTurn(stream, answer: answer, in: conversation, started: started, for: principal)
        } catch {
            running.withLockedValue { $0[conversation.id] = nil }
            logger.error("turn not resumed after a tool decision", metadata: ["conversation": "\(conversation.id)", "error": "\(error)"])
        }
    }

    /// Runs the question's answers in the background (the conversation is claimed); answers its channel.
    /// Tools that need a role run unapproved only when the conversation's owner asked and holds it.
    @discardableResult
    private func startTurn(
        _ stream: Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error>, answer: ConversationMessageRecord,
        in conversation: ConversationRecord, started: ContinuousClock.Instant, for principal: Principal
    ) -> String {
        let channel = JarvisConversationOwners.channel(of: conversation.id)
        let owner = conversation.owner
        let task = Task {
            await self.turn(stream, record: answer, channel: channel, started: started, actor: principal) { scope in
                principal.id == owner && principal.has(scope)
            }
        }
        running.withLockedValue { $0[conversation.id] = task }
        return channel
    }

    /// Marks the conversation as answering on this replica; `busy` when it already is.
    private func claim(_ conversationID: String) throws {
        let claimed = running.withLockedValue { running in
            guard running[conversationID] == nil else { return false }
            running[conversationID] = Task {}  // placeholder until the answer task exists
            return true
        }
        guard claimed else { throw AskError.busy }
    }

    private func startStream(history: [ConversationMessageRecord], question: String?, withTools: Bool) async -> Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error> {
        do {
            var messages = Self.chatMessages(history: history)
            if let question { messages.append(ChatMessage(role: .user, content: question)) }
            let definitions = withTools ? tools.toolbox.catalog.definitions(under: try await tools.toolbox.policy()) : []
            return .success(try await providers.chain().stream(ChatRequest(messages: messages, tools: definitions)))
        } catch {
            return .failure(error)
        }
    }

    /// Whether this replica works on a question in the conversation: an answer streams, a tool runs,
    /// or the turn is between the two (the gaps the stored rows alone cannot show).
    func isAnswering(_ conversationID: String) -> Bool {
        running.withLockedValue { $0[conversationID] != nil }
    }

    /// Stops the conversation's answer if it runs here; false when none does.
    func cancel(_ conversationID: String) -> Bool {
        guard let task = running.withLockedValue({ $0[conversationID] }) else { return false }
        task.cancel()
        return true
    }

    /// Stops the conversation's answer wherever it runs: here directly, on another replica through
    /// a request on the channel. False when no answer is streaming.
    func cancelAnywhere(_ conversationID: String) async throws -> Bool {
        if cancel(conversationID) { return true }
        // Streaming an answer, or running a tool the last answer asked for.
        guard let last = try await conversations.messages(conversationID: conversationID).last(where: { $0.role == "assistant" }) else { return false }
        let toolRunning = try await tools.hasRunningCall(after: last.id, in: conversationID)
        guard last.state == "streaming" || toolRunning else { return false }
        try await hub.publish(AnswerCancelListener.request(answerID: last.id), to: JarvisConversationOwners.channel(of: conversationID), by: .server)
        return true
    }

    /// Answers until the model stops asking for tools, a call waits for approval, or `maxRounds`.
    private func turn(
        _ first: Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error>, record firstRecord: ConversationMessageRecord, channel: String,
        started firstStarted: ContinuousClock.Instant, actor: Principal, mayRunUnapproved: @escaping @Sendable (Principal.Scope) -> Bool
    ) async {
        var (stream, record, started) = (first, firstRecord, firstStarted)
        var round = 1
        // Hears a stop sent to another replica, for any answer of this turn and the tools between them.
        let stopListening = listenForStop(from: firstRecord.id, channel: channel, conversationID: firstRecord.conversationID)
        defer { stopListening() }
        while true {
            let outcome = await answer(stream, record: record, channel: channel, started: started)
            // The last answer was asked without tools; calls it makes anyway are not run.
            guard outcome.state == .complete, !outcome.toolCalls.isEmpty, round < Self.maxRounds, !Task.isCancelled else { break }
            let waiting = await tools.handle(outcome.toolCalls, answer: record, channel: channel, actor: actor, mayRunUnapproved: mayRunUnapproved)
            guard !waiting, !Task.isCancelled else { break }
            round += 1
            do {
                let history = try await conversations.messages(conversationID: record.conversationID)
                started = .now
                stream = await startStream(history: history, question: nil, withTools: round < Self.maxRounds)
                record = try await conversations.append(ConversationMessageRecord(
                    conversationID: record.conversationID, role: "assistant", content: "", state: "streaming", createdAt: Clock.nowMilliseconds()))
            } catch {
                logger.error("next answer of the turn not started", metadata: ["conversation": "\(record.conversationID)", "error": "\(error)"])
                break
            }
        }
        finishing.withLockedValue { _ = $0.remove(record.conversationID) }
        running.withLockedValue { $0[record.conversationID] = nil }
    }

    /// Subscribes to the conversation's channel for `answer.cancel` requests about answers from
    /// `answerID` on (sent by the replica that received a Stop); answers how to stop listening.
    private func listenForStop(from answerID: Int64, channel: String, conversationID: String) -> @Sendable () -> Void {
        let hub = self.hub
        let listener = Session(
            id: listenerIDs.withLockedValue { $0 += 1; return $0 }, principal: .server,
            transport: AnswerCancelListener(fromAnswerID: answerID) { [weak self] in _ = self?.cancel(conversationID) })
        // Beside the work, not before it: the first token must not wait for this subscription.
        let listening = Task {
            try? await hub.subscribe(listener, to: channel, since: nil) { _, _ in OutboundMessage(json: Array("{}".utf8)) }
        }
        return {
            Task {
                await listening.value
                await hub.disconnect(listener)
            }
        }
    }

    /// One answer of a turn: streamed, published and stored with its outcome.
    private func answer(
        _ stream: Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error>, record: ConversationMessageRecord, channel: String,
        started: ContinuousClock.Instant
    ) async -> AnswerOutcome {
        let hub = self.hub
        let conversations = self.conversations
        let finishing = self.finishing
        let sink = AnswerEventSink { event in
            if event["type"]?.stringValue == "answer.end", event["state"]?.stringValue != "complete" || event["tool_calls"] == .array([]) {
                // No tools follow: the question ends with this event, before a client can ask again.
                finishing.withLockedValue { _ = $0.insert(record.conversationID) }
            }
            let position = try await hub.publish(event, to: channel, by: .server)
            if event["type"]?.stringValue == "answer.start" {
                // Off the publishing path: the first token must not wait for a database write.
                Task {
                    try? await conversations.setStreamPosition(
                        messageID: record.id, epoch: position.epoch, offset: Int64(position.offset) - 1)
                }
            }
        }
        let outcome: AnswerOutcome
        switch stream {
        case .success(let stream):
            outcome = await AnswerRunner(batchInterval: batchInterval)
                .run(stream, answerID: record.id, sink: sink, started: started)
        case .failure(let error):
            outcome = AnswerRunner.fail(answerID: record.id, error: "the provider configuration could not be read: \(error)", sink: sink)
        }
        let failures = await sink.finish()
        if !failures.isEmpty {
            logger.error("answer events not published", metadata: ["channel": "\(channel)", "failures": "\(failures.count)", "first": "\(failures[0])"])
        }
        var stored = record
        stored.content = outcome.content
        stored.state = outcome.state.rawValue
        stored.error = outcome.error
        stored.provider = outcome.provider
        stored.model = outcome.model
        stored.finishReason = outcome.finishReason
        stored.promptTokens = outcome.promptTokens.map(Int64.init)
        stored.completionTokens = Int64(outcome.completionTokens)
        stored.firstTokenMilliseconds = outcome.firstTokenMilliseconds.map(Int64.init)
        stored.totalMilliseconds = Int64(outcome.totalMilliseconds)
        stored.toolCalls = outcome.toolCalls.isEmpty ? nil : Self.toolCallsJSON(outcome.toolCalls)
        // In a task of its own: a cancelled answer's task would have the store refuse the write.
        let finished = stored
        let logger = self.logger
        await Task {
            do {
                try await conversations.complete(finished)
                try await conversations.touch(id: finished.conversationID, at: Clock.nowMilliseconds())
            } catch {
                logger.error("answer not stored", metadata: ["conversation": "\(finished.conversationID)", "error": "\(error)"])
            }
        }.value
        logger.info(
            "answer ended",
            metadata: [
                "conversation": "\(record.conversationID)", "state": "\(outcome.state.rawValue)", "provider": "\(outcome.provider ?? "-")",
                "first_token_ms": "\(outcome.firstTokenMilliseconds.map(String.init) ?? "-")", "total_ms": "\(outcome.totalMilliseconds)",
            ])
        return outcome
    }

    /// Earlier turns as the model should see them: questions, the text of answers (an answer cut
    /// short keeps what it said; a failed one said nothing), and the tool calls answers asked for
    /// with their results. A call without a result (it never ran: the replica stopped) is left out,
    /// since providers refuse a call that has no answer.
    static func chatMessages(history: [ConversationMessageRecord]) -> [ChatMessage] {
        let answeredCalls = Set(history.compactMap { $0.role == "tool" ? $0.toolCallID : nil })
        var messages = [ChatMessage(role: .system, content: systemPrompt)]
        for message in history {
            switch message.role {
            case "user":
                messages.append(ChatMessage(role: .user, content: message.content))
            case "assistant":
                let calls = toolCalls(fromJSON: message.toolCalls).filter { answeredCalls.contains($0.id) }
                if !calls.isEmpty {
                    messages.append(ChatMessage(role: .assistant, content: message.content.isEmpty ? nil : message.content, toolCalls: calls))
                } else if !message.content.isEmpty {
                    messages.append(ChatMessage(role: .assistant, content: message.content))
                }
            case "tool":
                messages.append(ChatMessage(role: .tool, content: message.content, toolCallID: message.toolCallID))
            default:
                break
            }
        }
        return messages
    }

    /// Whether the last answer asked for calls that have no result yet (they wait for approval).
    static func hasUnansweredToolCalls(_ history: [ConversationMessageRecord]) -> Bool {
        guard let asking = history.lastIndex(where: { $0.role == "assistant" && $0.toolCalls != nil }) else { return false }
        let answered = Set(history[asking...].compactMap { $0.role == "tool" ? $0.toolCallID : nil })
        return toolCalls(fromJSON: history[asking].toolCalls).contains { !answered.contains($0.id) }
    }

    static func toolCalls(fromJSON text: String?) -> [ChatMessage.ToolCall] {
        guard let text, case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap { item in
            guard let id = item["id"]?.stringValue, let name = item["name"]?.stringValue else { return nil }
            return ChatMessage.ToolCall(id: id, name: name, arguments: item["arguments"]?.stringValue ?? "")
        }
    }

    static func toolCallsJSON(_ calls: [ChatMessage.ToolCall]) -> String {
        let value = JSONValue.array(calls.map { call in
            .object([("id", .string(call.id)), ("name", .string(call.name)), ("arguments", .string(call.arguments))])
        })
        return String(decoding: value.jsonBytes, as: UTF8.self)
    }
}
