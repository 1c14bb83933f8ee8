import NIOConcurrencyHelpers
import Realtime
import Testing
@testable import Jarvis

/// Collects what an answer publishes, in order.
private final class Recorder: Sendable {
    private let events = NIOLockedValueBox([JSONValue]())
    var all: [JSONValue] { events.withLockedValue { $0 } }
    func sink() -> AnswerEventSink { AnswerEventSink { event in self.events.withLockedValue { $0.append(event) } } }
    var types: [String] { all.compactMap { $0["type"]?.stringValue } }
    var text: String { all.filter { $0["type"]?.stringValue == "answer.delta" }.compactMap { $0["text"]?.stringValue }.joined() }
    var end: JSONValue? { all.last { $0["type"]?.stringValue == "answer.end" } }
}

private func text(_ s: String) -> ChatCompletionChunk { ChatCompletionChunk(content: s) }
private let request = ChatRequest(messages: [ChatMessage(role: .user, content: "hi")])

@Suite("Answer runner")
struct AnswerRunnerTests {
    @Test func batchesTokensButSendsTheFirstAtOnceAndEndsWithTheOutcome() async {
        var steps: [ScriptedProvider.Step] = [.chunk(ChatCompletionChunk(content: ""))]
        for n in 0..<40 { steps += [.chunk(text("t\(n) "))] }  // faster than the batch interval
        steps += [.chunk(ChatCompletionChunk(finishReason: "stop")), .chunk(ChatCompletionChunk(usage: .init(promptTokens: 11, completionTokens: 40)))]
        let provider = ScriptedProvider("gpu", steps)
        let recorder = Recorder()
        let sink = recorder.sink()
        let outcome = await AnswerRunner(batchInterval: .milliseconds(40))
            .run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 7, sink: sink)
        #expect(await sink.finish().isEmpty)

        let expectedText = (0..<40).map { "t\($0) " }.joined()
        #expect(outcome.state == .complete && outcome.content == expectedText && outcome.finishReason == "stop")
        #expect(outcome.provider == "gpu" && outcome.promptTokens == 11 && outcome.completionTokens == 40)
        #expect(recorder.text == expectedText)
        #expect(recorder.types.first == "answer.start" && recorder.types.dropFirst().first == "answer.provider")
        #expect(recorder.types.last == "answer.end")
        // 40 tokens at once with a 40-ms batch: the first alone, the rest together (a loaded machine
        // may split them once or twice more) — far fewer frames than tokens.
        let deltas = recorder.types.filter { $0 == "answer.delta" }.count
        #expect(deltas >= 2 && deltas <= 10, "\(deltas) delta frames")
        // The first delta carries the first token alone: it was not held for the batch interval.
        #expect(recorder.all.first { $0["type"]?.stringValue == "answer.delta" }?["text"] == .string("t0 "))
        #expect(recorder.end?["state"] == .string("complete"))
        #expect(recorder.end?["usage"]?["completion_tokens"] == .number("40"))
        #expect(recorder.end?["latency"]?["first_token_ms"]?.int64Value != nil)
    }

    @Test func aProviderDyingMidAnswerEndsWithTheErrorMarkerAndKeepsTheText() async {
        let provider = ScriptedProvider("gpu", [.chunk(text("Half ")), .chunk(text("an")), .fail(.endedEarly)])
        let recorder = Recorder()
        let sink = recorder.sink()
        let outcome = await AnswerRunner().run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 1, sink: sink)
        _ = await sink.finish()
        #expect(outcome.state == .interrupted && outcome.content == "Half an")
        #expect(recorder.text == "Half an")
        #expect(recorder.end?["state"] == .string("interrupted"))
        #expect(recorder.end?["error"]?.stringValue?.contains("stream ended before the answer finished") == true)
    }

    @Test func noProviderIsAFailedAnswerWithEveryReason() async {
        let provider = ScriptedProvider("gpu", [.fail(.unreachable("refused"))])
        let recorder = Recorder()
        let sink = recorder.sink()
        let outcome = await AnswerRunner().run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 1, sink: sink)
        _ = await sink.finish()
        #expect(outcome.state == .failed && outcome.content.isEmpty)
        #expect(recorder.types == ["answer.start", "answer.end"])
        #expect(recorder.end?["error"]?.stringValue == "no provider answered: gpu: unreachable: refused")
    }

    @Test func cancellingStopsTheProviderAndEndsAsCancelled() async throws {
        let provider = ScriptedProvider("gpu", [.chunk(text("a")), .wait(.seconds(30)), .chunk(text("never"))])
        let recorder = Recorder()
        let sink = recorder.sink()
        let runner = AnswerRunner()
        let task = Task { await runner.run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 3, sink: sink) }
        for _ in 0..<200 where recorder.text.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let outcome = await task.value
        _ = await sink.finish()
        #expect(outcome.state == .cancelled && outcome.content == "a")
        #expect(recorder.end?["state"] == .string("cancelled"))
        for _ in 0..<100 where !provider.sawCancellation { try await Task.sleep(for: .milliseconds(10)) }
        #expect(provider.sawCancellation)
    }

    @Test func anAnswerThatOverrunsItsMaximumIsStoppedAndMarkedInterrupted() async throws {
        let provider = ScriptedProvider("gpu", [.chunk(text("a")), .wait(.seconds(30)), .chunk(text("never"))])
        let recorder = Recorder()
        let sink = recorder.sink()
        let started = ContinuousClock.now
        let outcome = await AnswerRunner(maxDuration: .milliseconds(300))
            .run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 4, sink: sink)
        _ = await sink.finish()
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(outcome.state == .interrupted && outcome.content == "a")
        #expect(outcome.error?.contains("took longer than") == true)
        #expect(recorder.end?["state"] == .string("interrupted") && recorder.text == "a")
        for _ in 0..<100 where !provider.sawCancellation { try await Task.sleep(for: .milliseconds(10)) }
        #expect(provider.sawCancellation, "the provider was not stopped")
    }

    @Test func toolCallsAreAssembledFromTheirPieces() async {
        let provider = ScriptedProvider("scripted", [
            .chunk(ChatCompletionChunk(toolCalls: [.init(index: 0, id: "call_a", name: "container_logs", arguments: "")])),
            .chunk(ChatCompletionChunk(toolCalls: [.init(index: 0, arguments: "{\"name\":")])),
            .chunk(ChatCompletionChunk(toolCalls: [.init(index: 1, id: "call_b", name: "disk_usage", arguments: "{}")])),
            .chunk(ChatCompletionChunk(toolCalls: [.init(index: 0, arguments: "\"db\"}")])),
            .chunk(ChatCompletionChunk(finishReason: "tool_calls")),
        ])
        let recorder = Recorder()
        let sink = recorder.sink()
        let outcome = await AnswerRunner().run(request, on: ProviderChain(links: [.init(provider: provider)]), answerID: 1, sink: sink)
        _ = await sink.finish()
        #expect(outcome.toolCalls == [
            .init(id: "call_a", name: "container_logs", arguments: #"{"name":"db"}"#),
            .init(id: "call_b", name: "disk_usage", arguments: "{}"),
        ])
        #expect(outcome.finishReason == "tool_calls")
        #expect(recorder.end?["tool_calls"]?.isArray == true)
    }
}

extension JSONValue {
    fileprivate var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}
