import Testing
@testable import Jarvis

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    private let t0 = ContinuousClock.now

    @Test func opensAfterConsecutiveFailuresOnly() {
        let breaker = CircuitBreaker(policy: .init(failureThreshold: 3, openDuration: .seconds(10)))
        breaker.recordFailure(at: t0)
        breaker.recordFailure(at: t0)
        breaker.recordSuccess()  // resets the count
        breaker.recordFailure(at: t0)
        breaker.recordFailure(at: t0)
        #expect(breaker.admit(at: t0) == .admitted)
        breaker.recordFailure(at: t0)
        #expect(breaker.currentState == .open(until: t0 + .seconds(10)))
        #expect(breaker.admit(at: t0 + .seconds(9)) == .rejected)
    }

    @Test func onlyOneProbeAfterTheOpenPeriodAndItsOutcomeDecides() {
        let breaker = CircuitBreaker(policy: .init(failureThreshold: 1, openDuration: .seconds(10)))
        breaker.recordFailure(at: t0)
        #expect(breaker.admit(at: t0 + .seconds(10)) == .probe)
        #expect(breaker.admit(at: t0 + .seconds(10)) == .rejected)  // the probe is in flight
        breaker.recordFailure(at: t0 + .seconds(11))
        #expect(breaker.currentState == .open(until: t0 + .seconds(21)))
        #expect(breaker.admit(at: t0 + .seconds(20)) == .rejected)
        #expect(breaker.admit(at: t0 + .seconds(21)) == .probe)
        breaker.recordSuccess()
        #expect(breaker.currentState == .closed(consecutiveFailures: 0))
        #expect(breaker.admit(at: t0 + .seconds(21)) == .admitted)
    }

    @Test func anAbandonedProbeLetsTheNextRequestProbe() {
        let breaker = CircuitBreaker(policy: .init(failureThreshold: 1, openDuration: .seconds(10)))
        breaker.recordFailure(at: t0)
        #expect(breaker.admit(at: t0 + .seconds(10)) == .probe)
        breaker.abandonProbe(at: t0 + .seconds(12))
        #expect(breaker.admit(at: t0 + .seconds(12)) == .probe)
    }
}
