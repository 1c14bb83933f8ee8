import NIOConcurrencyHelpers
import Testing
@testable import Jarvis

private let role = ChatCompletionChunk(content: "")
private func text(_ s: String) -> ChatCompletionChunk { ChatCompletionChunk(content: s) }
private let stop = ChatCompletionChunk(finishReason: "stop")
private let request = ChatRequest(messages: [ChatMessage(role: .user, content: "hi")])

private func collect(_ stream: AsyncThrowingStream<ProviderChain.Event, any Error>) async -> (events: [ProviderChain.Event], error: (any Error)?) {
    var events: [ProviderChain.Event] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

@Suite("Provider chain")
struct ProviderChainTests {
    @Test func firstHealthyProviderAnswersAndTheRoleChunkFollowsTheAnnouncement() async {
        let gpu = ScriptedProvider("gpu", [.chunk(role), .chunk(text("Hi")), .chunk(text("!")), .chunk(stop)])
        let cpu = ScriptedProvider("cpu", [.chunk(text("unused"))])
        let chain = ProviderChain(links: [.init(provider: gpu), .init(provider: cpu)])
        let (events, error) = await collect(chain.stream(request))
        #expect(error == nil)
        #expect(events == [.answering(provider: "gpu", model: "scripted"), .chunk(role), .chunk(text("Hi")), .chunk(text("!")), .chunk(stop)])
        #expect(cpu.callCount == 0)
    }

    @Test func failureBeforeTheFirstTokenFallsThroughSilently() async {
        let gpu = ScriptedProvider("gpu", [.chunk(role), .fail(.unreachable("connection refused"))])
        let cpu = ScriptedProvider("cpu", [.chunk(text("from cpu")), .chunk(stop)])
        let chain = ProviderChain(links: [.init(provider: gpu), .init(provider: cpu)])
        let (events, error) = await collect(chain.stream(request))
        #expect(error == nil)
        // gpu's role chunk was held back and dropped with it: nothing of gpu reaches the client.
        #expect(events == [.answering(provider: "cpu", model: "scripted"), .chunk(text("from cpu")), .chunk(stop)])
    }

    @Test func failureAfterTheFirstTokenEndsTheAnswerWithAnInterruption() async {
        let gpu = ScriptedProvider("gpu", [.chunk(text("Half an ")), .fail(.endedEarly)])
        let cpu = ScriptedProvider("cpu", [.chunk(text("other answer")), .chunk(stop)])
        let chain = ProviderChain(links: [.init(provider: gpu), .init(provider: cpu)])
        let (events, error) = await collect(chain.stream(request))
        #expect(events == [.answering(provider: "gpu", model: "scripted"), .chunk(text("Half an "))])
        #expect(error as? AnswerInterrupted == AnswerInterrupted(provider: "gpu", error: .endedEarly))
        #expect(cpu.callCount == 0)
    }

    @Test func allFailingIsOneErrorListingEveryAttempt() async {
        let a = ScriptedProvider("a", [.fail(.httpStatus(503, "busy"))])
        let b = ScriptedProvider("b", [.fail(.timeout(.firstToken))])
        let (events, error) = await collect(ProviderChain(links: [.init(provider: a), .init(provider: b)]).stream(request))
        #expect(events.isEmpty)
        #expect(error as? NoProviderAnswered == NoProviderAnswered(attempts: [
            .init(provider: "a", error: .httpStatus(503, "busy")),
            .init(provider: "b", error: .timeout(.firstToken)),
        ]))
    }

    @Test func theBreakerOpensAndLaterRequestsSkipTheDeadProvider() async {
        let dead = ScriptedProvider("dead", [.fail(.unreachable("refused"))])
        let backup = ScriptedProvider("backup", [.chunk(text("ok")), .chunk(stop)])
        let breaker = CircuitBreaker(policy: .init(failureThreshold: 2, openDuration: .seconds(60)))
        let chain = ProviderChain(links: [.init(provider: dead, breaker: breaker), .init(provider: backup)])
        for _ in 0..<4 {
            let (events, error) = await collect(chain.stream(request))
            #expect(error == nil)
            #expect(events.first == .answering(provider: "backup", model: "scripted"))
        }
        #expect(dead.callCount == 2)  // the third and fourth requests never reached it
        guard case .open = breaker.currentState else {
            Issue.record("breaker should be open, is \(breaker.currentState)")
            return
        }
    }

    @Test func stoppingTheConsumerCancelsTheProviderStream() async throws {
        let slow = ScriptedProvider("slow", [.chunk(text("a")), .wait(.seconds(30)), .chunk(text("never"))])
        let chain = ProviderChain(links: [.init(provider: slow)])
        let consumer = Task {
            var seen: [ProviderChain.Event] = []
            for try await event in chain.stream(request) { seen.append(event) }
            return seen
        }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        consumer.cancel()
        _ = try? await consumer.value
        for _ in 0..<100 where !slow.sawCancellation { try await Task.sleep(for: .milliseconds(10)) }
        #expect(slow.sawCancellation)
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}
