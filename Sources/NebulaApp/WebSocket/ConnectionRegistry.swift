import NIOConcurrencyHelpers
import NIOCore
import Realtime

/// The live WebSocket connections, so shutdown can close each with 1001 and a reason and wait
/// for them to go.
final class ConnectionRegistry: Sendable {
    private struct State {
        var transports: [UInt64: any OutboundTransport] = [:]
        var principals: [UInt64: Principal] = [:]
        var nextID: UInt64 = 1
        var draining = false
    }

    private let state = NIOLockedValueBox(State())

    /// A fresh connection id, or nil once shutdown has begun and new sockets are refused.
    func admit() -> UInt64? {
        state.withLockedValue { state in
            guard !state.draining else { return nil }
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    var isDraining: Bool { state.withLockedValue { $0.draining } }

    var count: Int { state.withLockedValue { $0.transports.count } }

    func register(_ id: UInt64, _ transport: any OutboundTransport, principal: Principal) {
        state.withLockedValue {
            $0.transports[id] = transport
            $0.principals[id] = principal
        }
    }

    func remove(_ id: UInt64) {
        state.withLockedValue {
            $0.transports.removeValue(forKey: id)
            $0.principals.removeValue(forKey: id)
        }
    }

    /// The principals of live connections matching `predicate` (once each).
    func principals(where predicate: (Principal) -> Bool) -> Set<Principal> {
        state.withLockedValue { Set($0.principals.values.filter(predicate)) }
    }

    /// Closes the connections of principals matching `predicate`; returns how many.
    @discardableResult
    func close(where predicate: (Principal) -> Bool, code: UInt16, reason: String) -> Int {
        let transports = state.withLockedValue { state in
            state.principals.filter { predicate($0.value) }.compactMap { state.transports[$0.key] }
        }
        for transport in transports { transport.close(code: code, reason: reason) }
        return transports.count
    }

    /// Refuses new connections and asks every open one to close.
    func closeAll(code: UInt16, reason: String) {
        let transports = state.withLockedValue { state in
            state.draining = true
            return Array(state.transports.values)
        }
        for transport in transports { transport.close(code: code, reason: reason) }
    }

    /// Waits until every connection is gone or the deadline passes.
    func waitUntilEmpty(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
