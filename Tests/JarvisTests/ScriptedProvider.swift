import NIOConcurrencyHelpers
@testable import Jarvis

/// An in-memory provider that plays a script; counts how often it was asked.
final class ScriptedProvider: ChatProvider, Sendable {
    enum Step: Sendable {
        case chunk(ChatCompletionChunk)
        case fail(ProviderError)
        case wait(Duration)
    }

    let name: String
    let model = "scripted"
    private let steps: [Step]
    private let calls = NIOLockedValueBox(0)
    private let cancelled = NIOLockedValueBox(false)

    init(_ name: String, _ steps: [Step]) {
        self.name = name
        self.steps = steps
    }

    var callCount: Int { calls.withLockedValue { $0 } }
    var sawCancellation: Bool { cancelled.withLockedValue { $0 } }

    func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        calls.withLockedValue { $0 += 1 }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatCompletionChunk.self, throwing: (any Error).self)
        let task = Task {
            for step in steps {
                switch step {
                case .chunk(let chunk): continuation.yield(chunk)
                case .fail(let error):
                    continuation.finish(throwing: error)
                    return
                case .wait(let duration):
                    do { try await Task.sleep(for: duration) } catch {
                        cancelled.withLockedValue { $0 = true }
                        return
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

