import NIOConcurrencyHelpers

/// Coalesces an answer's text into one publication per `interval`, so a 40-token/s model does not
/// cost a frame per token while the first token still goes out at once.
///
/// Leading edge: text arriving when nothing was sent for `interval` is sent immediately (the
/// first token's latency is not padded). Trailing edge: text arriving sooner waits until
/// `interval` after the last send, then goes out together.
public final class DeltaBatcher: Sendable {
    private struct State {
        var pending = ""
        var lastSent: ContinuousClock.Instant?
        var timer: Task<Void, Never>?
        var closed = false
    }

    private let interval: Duration
    private let emit: @Sendable (String) -> Void
    private let state = NIOLockedValueBox(State())

    /// - Parameter emit: receives each batch, in order; must not block (queue it).
    public init(interval: Duration = .milliseconds(40), emit: @escaping @Sendable (String) -> Void) {
        self.interval = interval
        self.emit = emit
    }

    public func add(_ text: String) {
        guard !text.isEmpty else { return }
        state.withLockedValue { state in
            guard !state.closed else { return }
            state.pending += text
            let now = ContinuousClock.now
            if let last = state.lastSent, now - last < interval {
                if state.timer == nil { state.timer = timer(firingAt: last + interval) }
                return
            }
            sendLocked(&state, at: now)
        }
    }

    /// Sends whatever is pending now; later `add`s are ignored.
    public func close() {
        state.withLockedValue { state in
            state.timer?.cancel()
            state.timer = nil
            state.closed = true
            sendLocked(&state, at: .now)
        }
    }

    /// Created under the lock; its body takes the lock again when it fires, after `add` let go.
    private func timer(firingAt instant: ContinuousClock.Instant) -> Task<Void, Never> {
        Task { [self] in
            try? await Task.sleep(until: instant, clock: .continuous)
            state.withLockedValue { state in
                state.timer = nil
                guard !state.closed else { return }
                sendLocked(&state, at: .now)
            }
        }
    }

    /// Emitting under the lock keeps batches in order with `close()`.
    private func sendLocked(_ state: inout State, at now: ContinuousClock.Instant) {
        guard !state.pending.isEmpty else { return }
        let text = state.pending
        state.pending = ""
        state.lastSent = now
        emit(text)
    }
}
