/// The self-publish probe: every interval a replica publishes a numbered message to a channel only
/// it subscribes to. A probe Redis accepted but that never came back means the subscription is
/// stuck (connected, receiving nothing); no probe round trip for a while means Redis is not
/// answering. Neither is assumed healthy.
struct ProbeTracker {
    private(set) var nextSequence: UInt64 = 1
    /// Probes Redis accepted and that have not come back, oldest first.
    private var outstanding: [(sequence: UInt64, sentAt: ContinuousClock.Instant)] = []
    private(set) var lastRoundTrip: Duration?
    private(set) var lastReturnAt: ContinuousClock.Instant?

    mutating func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// Recorded before PUBLISH is sent: the message can arrive on the subscription before the
    /// command's reply does.
    mutating func sending(_ sequence: UInt64, at instant: ContinuousClock.Instant) {
        outstanding.append((sequence, instant))
    }

    /// Redis refused or did not answer the PUBLISH: this probe cannot come back.
    mutating func failed(_ sequence: UInt64) {
        outstanding.removeAll { $0.sequence == sequence }
    }

    mutating func received(_ sequence: UInt64, at instant: ContinuousClock.Instant) {
        guard let index = outstanding.firstIndex(where: { $0.sequence == sequence }) else { return }
        lastRoundTrip = instant - outstanding[index].sentAt
        lastReturnAt = instant
        outstanding.removeFirst(index + 1)
    }

    /// A probe Redis accepted longer than `limit` ago has not arrived.
    func isStuck(now: ContinuousClock.Instant, limit: Duration) -> Bool {
        outstanding.first.map { now - $0.sentAt > limit } ?? false
    }

    /// Starting over on a new connection: earlier probes can no longer arrive.
    mutating func restart(at instant: ContinuousClock.Instant) {
        outstanding.removeAll()
        lastReturnAt = instant
    }
}
