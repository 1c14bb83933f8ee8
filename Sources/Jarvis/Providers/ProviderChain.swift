/// Providers in priority order, each behind its own circuit breaker.
///
/// A request goes to the first provider whose breaker admits it. If that provider fails before
/// the first token, the next one gets the request — the user never sees the failure, only which
/// provider answered. Once a token has been shown, switching would splice two different answers,
/// so a later failure ends the answer with `AnswerInterrupted` instead.
public struct ProviderChain: Sendable {
    public struct Link: Sendable {
        public let provider: any ChatProvider
        public let breaker: CircuitBreaker

        public init(provider: any ChatProvider, breaker: CircuitBreaker = CircuitBreaker()) {
            self.provider = provider
            self.breaker = breaker
        }
    }

    public enum Event: Sendable, Equatable {
        /// The provider that answers; comes before its first chunk.
        case answering(provider: String, model: String)
        case chunk(ChatCompletionChunk)
    }

    public let links: [Link]

    public init(links: [Link]) {
        self.links = links
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<Event, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Event.self, throwing: (any Error).self)
        let task = Task {
            var attempts: [NoProviderAnswered.Attempt] = []
            for link in links {
                let outcome = await attempt(link, request, continuation)
                switch outcome {
                case .finished:
                    continuation.finish()
                    return
                case .cancelled:
                    continuation.finish(throwing: CancellationError())
                    return
                case .interrupted(let error):
                    continuation.finish(throwing: AnswerInterrupted(provider: link.provider.name, error: error))
                    return
                case .failedBeforeFirstToken(let error):
                    attempts.append(.init(provider: link.provider.name, error: error))
                }
            }
            continuation.finish(throwing: NoProviderAnswered(attempts: attempts))
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private enum Outcome {
        case finished
        case cancelled
        case interrupted(ProviderError)
        case failedBeforeFirstToken(ProviderError)
    }

    private func attempt(
        _ link: Link, _ request: ChatRequest, _ continuation: AsyncThrowingStream<Event, any Error>.Continuation
    ) async -> Outcome {
        let admission = link.breaker.admit()
        guard admission != .rejected else { return .failedBeforeFirstToken(.circuitOpen) }
        // Chunks before the first token (the role announcement) wait until this provider is chosen.
        var held: [ChatCompletionChunk] = []
        var committed = false
        func commit() {
            committed = true
            continuation.yield(.answering(provider: link.provider.name, model: link.provider.model))
            for chunk in held { continuation.yield(.chunk(chunk)) }
            held.removeAll()
        }
        do {
            for try await chunk in link.provider.streamChat(request) {
                if !committed, !(chunk.hasAnswerContent || chunk.finishReason != nil) {
                    held.append(chunk)
                    continue
                }
                if !committed { commit() }
                continuation.yield(.chunk(chunk))
            }
            if Task.isCancelled {
                if admission == .probe { link.breaker.abandonProbe() }
                return .cancelled
            }
            link.breaker.recordSuccess()
            if !committed { commit() }
            return .finished
        } catch {
            if error is CancellationError || Task.isCancelled {
                if admission == .probe { link.breaker.abandonProbe() }
                return .cancelled
            }
            let providerError = error as? ProviderError ?? .unreachable(String(describing: error))
            link.breaker.recordFailure()
            return committed ? .interrupted(providerError) : .failedBeforeFirstToken(providerError)
        }
    }
}

/// Every provider failed (or was held off by its breaker) before giving a token.
public struct NoProviderAnswered: Error, Equatable, CustomStringConvertible {
    public struct Attempt: Equatable, Sendable {
        public let provider: String
        public let error: ProviderError
    }

    public let attempts: [Attempt]

    public var description: String {
        attempts.isEmpty
            ? "no provider is configured"
            : "no provider answered: " + attempts.map { "\($0.provider): \($0.error)" }.joined(separator: "; ")
    }
}

/// The answering provider failed after its first token; what was shown so far stays, marked as cut short.
public struct AnswerInterrupted: Error, Equatable, CustomStringConvertible {
    public let provider: String
    public let error: ProviderError

    public var description: String { "\(provider) stopped mid-answer: \(error)" }
}
