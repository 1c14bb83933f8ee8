import Testing

@testable import Realtime

@Suite("Delivery cursors and the self-publish probe (Redis broker)")
struct DeliveryCursorsTests {
    private func at(_ offset: UInt64, _ epoch: String = "E") -> StreamPosition { StreamPosition(epoch: epoch, offset: offset) }

    @Test("ordered: the next offset is delivered, a repeat skipped, a jump fetched from history, a new epoch declared lost")
    func ordered() {
        var cursors = DeliveryCursors()
        #expect(cursors.classify("c", at(5), delivery: .ordered) == .deliver)  // first seen: adopted
        #expect(cursors.classify("c", at(6), delivery: .ordered) == .deliver)
        #expect(cursors.classify("c", at(6), delivery: .ordered) == .skip)
        #expect(cursors.classify("c", at(3), delivery: .ordered) == .skip)
        #expect(cursors.classify("c", at(9), delivery: .ordered) == .catchUp(after: at(6)))
        #expect(cursors.positions["c"] == at(6))  // unchanged until history fills the gap
        let advanced = [7, 8, 9, 9].map { cursors.advance("c", to: at(UInt64($0))) }
        #expect(advanced == [true, true, true, false])  // never twice
        #expect(cursors.classify("c", at(9), delivery: .ordered) == .skip)
        #expect(cursors.classify("c", at(1, "F"), delivery: .ordered) == .lost)
        #expect(cursors.positions["c"] == at(1, "F"))
        #expect(cursors.classify("c", at(2, "F"), delivery: .ordered) == .deliver)
    }

    @Test("latest-value: a jump or a new epoch is simply the newest value")
    func latest() {
        var cursors = DeliveryCursors()
        #expect(cursors.classify("t", at(1), delivery: .latest) == .deliver)
        #expect(cursors.classify("t", at(7), delivery: .latest) == .deliver)
        #expect(cursors.classify("t", at(7), delivery: .latest) == .skip)
        #expect(cursors.classify("t", at(1, "G"), delivery: .latest) == .deliver)
    }

    @Test("a baseline from a subscribe reply makes an earlier-published gap visible; it never moves an existing cursor")
    func baseline() {
        var cursors = DeliveryCursors()
        cursors.setBaseline("c", at(10))
        #expect(cursors.classify("c", at(12), delivery: .ordered) == .catchUp(after: at(10)))
        cursors.setBaseline("c", at(2))
        #expect(cursors.positions["c"] == at(10))
        cursors.remove("c")
        #expect(cursors.classify("c", at(12), delivery: .ordered) == .deliver)
    }

    @Test("probe: a probe that comes back is a round trip; one accepted but never back is a stuck subscription")
    func probe() {
        var probes = ProbeTracker()
        let t0 = ContinuousClock.now
        let first = probes.takeSequence()
        probes.sending(first, at: t0)
        #expect(!probes.isStuck(now: t0 + .seconds(2), limit: .seconds(3)))
        #expect(probes.isStuck(now: t0 + .seconds(4), limit: .seconds(3)))
        probes.received(first, at: t0 + .milliseconds(2))
        #expect(probes.lastRoundTrip == .milliseconds(2))
        #expect(!probes.isStuck(now: t0 + .seconds(10), limit: .seconds(3)))
        // A PUBLISH Redis refused can never come back: not counted against the subscription.
        let second = probes.takeSequence()
        probes.sending(second, at: t0)
        probes.failed(second)
        #expect(!probes.isStuck(now: t0 + .seconds(10), limit: .seconds(3)))
        // A newer probe coming back settles older ones (their messages were lost with a connection).
        let third = probes.takeSequence(), fourth = probes.takeSequence()
        probes.sending(third, at: t0)
        probes.sending(fourth, at: t0 + .seconds(1))
        probes.received(fourth, at: t0 + .seconds(1))
        #expect(!probes.isStuck(now: t0 + .seconds(10), limit: .seconds(3)))
        #expect(second != first && third != second && fourth != third)
    }
}
