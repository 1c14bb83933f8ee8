import NIOConcurrencyHelpers

/// Keeps requests away from a provider that keeps failing, and lets one probe through now and then
/// to find out whether it is back.
///
/// closed → (`failureThreshold` failures in a row) → open → (`openDuration` later, one request
/// admitted as the probe) → half-open → success: closed / failure: open again.
public final class CircuitBreaker: Sendable {
    public struct Policy: Equatable, Sendable {
        public var failureThreshold: Int
        public var openDuration: Duration

        public init(failureThreshold: Int = 3, openDuration: Duration = .seconds(30)) {
            self.failureThreshold = max(1, failureThreshold)
            self.openDuration = openDuration
        }
    }

    public enum State: Equatable, Sendable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// What `admit` decided for one request.
    public enum Admission: Equatable, Sendable {
        case admitted
        /// The single request allowed through after the open period; its outcome decides.
        case probe
        case rejected
    }

    public let policy: Policy
    private let state = NIOLockedValueBox(State.closed(consecutiveFailures: 0))

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    public var currentState: State { state.withLockedValue { $0 } }

    public func admit(at now: ContinuousClock.Instant = .now) -> Admission {
        state.withLockedValue { state in
            switch state {
            case .closed:
                return .admitted
            case .open(let until) where now >= until:
                state = .halfOpen
                return .probe
            case .open, .halfOpen:
                return .rejected
            }
        }
    }

    public func recordSuccess() {
        state.withLockedValue { $0 = .closed(consecutiveFailures: 0) }
    }

    public func recordFailure(at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            switch state {
            case .closed(let failures) where failures + 1 >= policy.failureThreshold:
                state = .open(until: now + policy.openDuration)
            case .closed(let failures):
                state = .closed(consecutiveFailures: failures + 1)
            case .halfOpen, .open:
                state = .open(until: now + policy.openDuration)
            }
        }
    }

    /// A request admitted as `.probe` that ended without telling success from failure (the user
    /// cancelled it): the next request may probe again.
    public func abandonProbe(at now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            if state == .halfOpen { state = .open(until: now) }
        }
    }
}
