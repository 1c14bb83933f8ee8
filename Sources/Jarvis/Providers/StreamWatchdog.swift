import NIOConcurrencyHelpers

/// A moving deadline for a streamed response: armed for the response head, re-armed for the first
/// token and after every chunk. `run()` throws `ProviderError.timeout` when the deadline passes.
final class StreamWatchdog: Sendable {
    private let state: NIOLockedValueBox<(phase: ProviderError.TimeoutPhase, deadline: ContinuousClock.Instant)>

    init(phase: ProviderError.TimeoutPhase, deadline: ContinuousClock.Instant) {
        state = NIOLockedValueBox((phase, deadline))
    }

    func arm(_ phase: ProviderError.TimeoutPhase, deadline: ContinuousClock.Instant) {
        state.withLockedValue { $0 = (phase, deadline) }
    }

    func run() async throws {
        while true {
            let (phase, deadline) = state.withLockedValue { $0 }
            let now = ContinuousClock.now
            if now >= deadline { throw ProviderError.timeout(phase) }
            // Re-arming may move the deadline earlier (a short first-token timeout after a long
            // connect one), so never sleep long past a check.
            try await Task.sleep(until: min(deadline, now + Self.checkInterval), clock: .continuous)
        }
    }

    private static let checkInterval: Duration = .milliseconds(50)
}
