import Realtime

/// Streams one answer from the provider chain onto its channel: `answer.start`, the answering
/// provider, text in batches (`answer.delta`), and always an `answer.end` saying how it ended —
/// complete, cancelled, interrupted mid-answer or failed — so a client never waits on a silent
/// truncation.
public struct AnswerRunner: Sendable {
    public let batchInterval: Duration
    /// Longest an answer may stream; past it the answer is stopped and ends `interrupted` (a provider
    /// that never stops is otherwise only bounded by its `max_tokens`). nil: no limit.
    public let maxDuration: Duration?

    public init(batchInterval: Duration = .milliseconds(40), maxDuration: Duration? = .seconds(600)) {
        self.batchInterval = batchInterval
        self.maxDuration = maxDuration
    }

    private enum Finish: Sendable {
        case consumed(AnswerOutcome)
        case overran
        case stopped
    }

    /// Asks the chain and runs until the answer ends; cancel the calling task to stop it (upstream
    /// generation stops too).
    public func run(_ request: ChatRequest, on chain: ProviderChain, answerID: Int64, sink: AnswerEventSink) async -> AnswerOutcome {
        await run(chain.stream(request), answerID: answerID, sink: sink, started: .now)
    }

    /// The same for a chain stream started earlier (`chain.stream(request)`): the caller can have the
    /// provider working while it stores the question. Latencies count from `started`.
    public func run(
        _ stream: AsyncThrowingStream<ProviderChain.Event, any Error>, answerID: Int64, sink: AnswerEventSink,
        started: ContinuousClock.Instant
    ) async -> AnswerOutcome {
        sink.send(.object([("type", .string("answer.start")), ("answer", .number(String(answerID)))]))
        let batcher = DeltaBatcher(interval: batchInterval) { text in
            sink.send(.object([("type", .string("answer.delta")), ("answer", .number(String(answerID))), ("text", .string(text))]))
        }
        var outcome = await withTaskGroup(of: Finish.self) { group in
            group.addTask { .consumed(await Self.consume(stream, answerID: answerID, sink: sink, batcher: batcher, started: started)) }
            if let maxDuration {
                group.addTask {
                    do {
                        try await Task.sleep(for: maxDuration)
                        return .overran
                    } catch {
                        return .stopped
                    }
                }
            }
            var overran = false
            for await finish in group {
                switch finish {
                case .consumed(var outcome):
                    group.cancelAll()
                    if overran, outcome.state == .cancelled {
                        outcome.state = .interrupted
                        outcome.error = "the answer took longer than \(maxDuration.map { "\($0)" } ?? "allowed") and was stopped"
                    }
                    return outcome
                case .overran:
                    overran = true
                    group.cancelAll()  // the stream stops; what it said so far stands
                case .stopped:
                    continue
                }
            }
            return AnswerOutcome(state: .cancelled, content: "")
        }
        batcher.close()
        outcome.totalMilliseconds = Self.milliseconds(ContinuousClock.now - started)
        sink.send(Self.endEvent(outcome, answerID: answerID))
        return outcome
    }

    /// Reads the chain's events into the outcome, sending the provider and text as they come.
    private static func consume(
        _ stream: AsyncThrowingStream<ProviderChain.Event, any Error>, answerID: Int64, sink: AnswerEventSink, batcher: DeltaBatcher,
        started: ContinuousClock.Instant
    ) async -> AnswerOutcome {
        var outcome = AnswerOutcome(state: .complete, content: "")
        var toolCalls = ToolCallAssembler()
        var contentChunks = 0
        do {
            for try await event in stream {
                switch event {
                case .answering(let provider, let model):
                    outcome.provider = provider
                    outcome.model = model
                    sink.send(.object([
                        ("type", .string("answer.provider")), ("answer", .number(String(answerID))),
                        ("provider", .string(provider)), ("model", .string(model)),
                    ]))
                case .chunk(let chunk):
                    if chunk.hasAnswerContent, outcome.firstTokenMilliseconds == nil {
                        outcome.firstTokenMilliseconds = Self.milliseconds(ContinuousClock.now - started)
                    }
                    if let text = chunk.content, !text.isEmpty {
                        contentChunks += 1
                        outcome.content += text
                        batcher.add(text)
                    }
                    toolCalls.add(chunk.toolCalls)
                    if let reason = chunk.finishReason { outcome.finishReason = reason }
                    if let usage = chunk.usage {
                        outcome.promptTokens = usage.promptTokens
                        outcome.completionTokens = usage.completionTokens
                    }
                    if let model = chunk.model, !model.isEmpty { outcome.model = model }
                }
            }
            if Task.isCancelled { outcome.state = .cancelled }
        } catch let error as AnswerInterrupted {
            outcome.state = .interrupted
            outcome.error = error.description
        } catch let error as NoProviderAnswered {
            outcome.state = .failed
            outcome.error = error.description
        } catch {
            outcome.state = Task.isCancelled || error is CancellationError ? .cancelled : .failed
            if outcome.state == .failed { outcome.error = String(describing: error) }
        }
        outcome.toolCalls = toolCalls.toolCalls
        if outcome.completionTokens == 0 { outcome.completionTokens = contentChunks }
        return outcome
    }

    /// Publishes the start and end of an answer that could not even begin (no chain to ask).
    public static func fail(answerID: Int64, error: String, sink: AnswerEventSink) -> AnswerOutcome {
        let outcome = AnswerOutcome(state: .failed, content: "", error: error)
        sink.send(.object([("type", .string("answer.start")), ("answer", .number(String(answerID)))]))
        sink.send(endEvent(outcome, answerID: answerID))
        return outcome
    }

    /// The `answer.end` event of an outcome.
    public static func endEvent(_ outcome: AnswerOutcome, answerID: Int64) -> JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func optional(_ value: Int?) -> JSONValue { value.map { .number(String($0)) } ?? .null }
        return .object([
            ("type", .string("answer.end")),
            ("answer", .number(String(answerID))),
            ("state", .string(outcome.state.rawValue)),
            ("finish_reason", optional(outcome.finishReason)),
            ("error", optional(outcome.error)),
            ("provider", optional(outcome.provider)),
            ("model", optional(outcome.model)),
            ("tool_calls", .array(outcome.toolCalls.map { call in
                .object([("id", .string(call.id)), ("name", .string(call.name)), ("arguments", .string(call.arguments))])
            })),
            ("usage", .object([
                ("prompt_tokens", optional(outcome.promptTokens)),
                ("completion_tokens", .number(String(outcome.completionTokens))),
            ])),
            ("latency", .object([
                ("first_token_ms", optional(outcome.firstTokenMilliseconds)),
                ("total_ms", .number(String(outcome.totalMilliseconds))),
            ])),
        ])
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
