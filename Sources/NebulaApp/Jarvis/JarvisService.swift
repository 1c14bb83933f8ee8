import Foundation
import Jarvis
import Logging
import NIOConcurrencyHelpers
import Realtime
import Store

/// Jarvis in the server: starts answers, streams them onto `jarvis.<conversation-id>` through
/// the hub (so any replica's subscribers see them and a reload recovers them with `since`), stores
/// each answer with its outcome, and stops one on request.
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
        concretely; use Markdown for lists and code.
        """

    let conversations: ConversationRepository
    let providers: JarvisProviders
    private let hub: Hub
    private let batchInterval: Duration
    private let logger: Logger
    /// Answers running on this replica, by conversation.
    private let running = NIOLockedValueBox([String: Task<Void, Never>]())
    /// A `streaming` answer this old that no replica finished was orphaned by a replica that stopped.
    static let orphanedAfter: Int64 = 15 * 60 * 1000
    private let listenerIDs = NIOLockedValueBox(UInt64(1) << 62)

    init(conversations: ConversationRepository, providers: JarvisProviders, hub: Hub, batchInterval: Duration = .milliseconds(40), logger: Logger) {
        self.conversations = conversations
        self.providers = providers
        self.hub = hub
        self.batchInterval = batchInterval
        self.logger = logger
    }

    /// Stores the question and an empty answer, then streams the answer in the background.
    func ask(_ content: String, in conversation: ConversationRecord) async throws -> Started {
        let claimed = running.withLockedValue { running in
            guard running[conversation.id] == nil else { return false }
            running[conversation.id] = Task {}  // placeholder until the answer task exists
            return true
        }
        guard claimed else { throw AskError.busy }
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
            let request = ChatRequest(messages: Self.chatMessages(history: history) + [ChatMessage(role: .user, content: content)])
            // The provider starts on the question while it is being stored: time to first token is
            // the provider's, not the provider's plus our writes. A chain that cannot be read fails
            // the answer below, with its reason, like any provider failure.
            let started = ContinuousClock.now
            let stream: Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error>
            do {
                stream = .success(try await providers.chain().stream(request))
            } catch {
                stream = .failure(error)
            }
            let (question, answer) = try await conversations.appendExchange(
                question: ConversationMessageRecord(conversationID: conversation.id, role: "user", content: content, state: "complete", createdAt: now),
                answer: ConversationMessageRecord(conversationID: conversation.id, role: "assistant", content: "", state: "streaming", createdAt: now))
            let channel = JarvisConversationOwners.channel(of: conversation.id)
            let task = Task { await self.answer(stream, record: answer, channel: channel, started: started) }
            running.withLockedValue { $0[conversation.id] = task }
            try? await conversations.touch(id: conversation.id, at: now)  // only the list's order
            return Started(channel: channel, question: question, answer: answer)
        } catch {
            running.withLockedValue { $0[conversation.id] = nil }
            throw error
        }
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
        guard let streaming = try await conversations.messages(conversationID: conversationID).last, streaming.state == "streaming" else {
            return false
        }
        try await hub.publish(AnswerCancelListener.request(answerID: streaming.id), to: JarvisConversationOwners.channel(of: conversationID), by: .server)
        return true
    }

    private func answer(
        _ stream: Result<AsyncThrowingStream<ProviderChain.Event, any Error>, any Error>, record: ConversationMessageRecord, channel: String,
        started: ContinuousClock.Instant
    ) async {
        let hub = self.hub
        let conversationID = record.conversationID
        let listener = Session(
            id: listenerIDs.withLockedValue { $0 += 1; return $0 }, principal: .server,
            transport: AnswerCancelListener(answerID: record.id) { [weak self] in _ = self?.cancel(conversationID) })
        // Beside the answer, not before it: the first token must not wait for this subscription.
        let listening = Task {
            try? await hub.subscribe(listener, to: channel, since: nil) { _, _ in OutboundMessage(json: Array("{}".utf8)) }
        }
        defer {
            Task {
                await listening.value
                await hub.disconnect(listener)
            }
        }
        let conversations = self.conversations
        let sink = AnswerEventSink { event in
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
        running.withLockedValue { $0[record.conversationID] = nil }
    }

    /// Earlier turns as the model should see them: questions and the text of answers (an answer
    /// cut short keeps what it said; a failed one said nothing).
    static func chatMessages(history: [ConversationMessageRecord]) -> [ChatMessage] {
        var messages = [ChatMessage(role: .system, content: systemPrompt)]
        for message in history {
            switch message.role {
            case "user": messages.append(ChatMessage(role: .user, content: message.content))
            case "assistant" where !message.content.isEmpty: messages.append(ChatMessage(role: .assistant, content: message.content))
            default: break
            }
        }
        return messages
    }

    static func toolCallsJSON(_ calls: [ChatMessage.ToolCall]) -> String {
        let value = JSONValue.array(calls.map { call in
            .object([("id", .string(call.id)), ("name", .string(call.name)), ("arguments", .string(call.arguments))])
        })
        return String(decoding: value.jsonBytes, as: UTF8.self)
    }
}
