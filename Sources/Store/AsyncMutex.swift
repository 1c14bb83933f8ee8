import DequeModule
import NIOConcurrencyHelpers

/// Mutual exclusion across suspension points: the one SQLite connection runs one transaction (or
/// statement) at a time, and a transaction's own statements must not interleave with others'. Also
/// used wherever work that awaits must not interleave (publishing snapshots in order). FIFO.
public final class AsyncMutex: Sendable {
    private struct State {
        var locked = false
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLockedValue { state in
                if !state.locked {
                    state.locked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func unlock() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }  // ownership passes on
            state.locked = false
            return nil
        }
        next?.resume()
    }
}
