import Foundation
import NIOCore
import Testing
@testable import Realtime

@Suite("InProcessBroker and ChannelHistory")
struct BrokerTests {
    static let ordered = ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .seconds(600), subscribe: .read, publish: .publish)
    static let latest = ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)

    private func data(_ i: Int) -> [UInt8] { Array("{\"i\":\(i)}".utf8) }

    /// Records what the broker delivers.
    final class Deliveries: @unchecked Sendable {
        private let lock = NSLock()
        private var _all: [Publication] = []
        func append(_ p: Publication) { lock.withLock { _all.append(p) } }
        var all: [Publication] { lock.withLock { _all } }
    }

    @discardableResult
    private func publish(_ broker: InProcessBroker, _ channel: String, count: Int, policy: ChannelPolicy = ordered, from: Int = 1) async throws -> [Publication] {
        var result: [Publication] = []
        for i in from..<(from + count) {
            result.append(try await broker.publish(channel: channel, data: data(i), policy: policy))
        }
        return result
    }

    @Test func offsetsStartAtOneAndRiseByOne() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        let deliveries = Deliveries()
        broker.start(deliver: { deliveries.append($0) }, lost: { _, _ in })
        let published = try await publish(broker, "app.a", count: 5)
        #expect(published.map(\.offset) == [1, 2, 3, 4, 5])
        #expect(published.map(\.position.epoch) == ["E", "E", "E", "E", "E"])
        #expect(published.map(\.data) == (1...5).map(data))
        #expect(deliveries.all.map(\.offset) == [1, 2, 3, 4, 5])
        #expect(deliveries.all.map(\.channel) == Array(repeating: "app.a", count: 5))
        // A second channel has its own sequence.
        let other = try await broker.publish(channel: "app.b", data: data(0), policy: Self.ordered)
        #expect(other.offset == 1)
        #expect(await broker.channels() == ["app.a": StreamPosition(epoch: "E", offset: 5), "app.b": StreamPosition(epoch: "E", offset: 1)])
    }

    @Test func everyChannelGetsItsOwnEpoch() async throws {
        let counter = LockedCounter()
        let broker = InProcessBroker(makeEpoch: { "epoch-\(counter.next())" })
        #expect(try await broker.publish(channel: "app.a", data: data(1), policy: Self.ordered).position.epoch == "epoch-1")
        #expect(try await broker.publish(channel: "app.b", data: data(1), policy: Self.ordered).position.epoch == "epoch-2")
        #expect(try await broker.publish(channel: "app.a", data: data(2), policy: Self.ordered).position.epoch == "epoch-1")
    }

    @Test func randomEpochs() {
        let a = InProcessBroker.randomEpoch()
        let b = InProcessBroker.randomEpoch()
        #expect(a.count == 12)
        #expect(a.allSatisfy { $0.isNumber || ("a"..."z").contains($0) })
        #expect(a != b)
    }

    @Test func publicationMessage() {
        let publication = Publication(
            channel: "app.m", position: StreamPosition(epoch: "E", offset: 7), data: Array(#"{"x":[1,2.5e3]}"#.utf8), delivery: .ordered
        )
        #expect(String(decoding: publication.message.payload.readableBytesView, as: UTF8.self) == #"{"channel":"app.m","offset":7,"data":{"x":[1,2.5e3]}}"#)
        #expect(publication.message.conflationKey == nil)
        let latest = Publication(channel: "telemetry.host", position: StreamPosition(epoch: "E", offset: 1), data: Array("1".utf8), delivery: .latest)
        #expect(latest.message.conflationKey == "telemetry.host")
    }

    @Test func historyIsCappedAtHistorySize() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.cap", count: 150)
        let history = try await broker.history(channel: "app.cap", policy: Self.ordered, limit: 1000)
        #expect(history.position == StreamPosition(epoch: "E", offset: 150))
        #expect(history.publications.map(\.offset) == Array(51...150))
        #expect(history.recovered == nil)
        let newest = try await broker.history(channel: "app.cap", policy: Self.ordered, limit: 3)
        #expect(newest.publications.map(\.offset) == [148, 149, 150])
        #expect(try await broker.history(channel: "app.cap", policy: Self.ordered, limit: 0).publications.isEmpty)

        // The oldest kept is 51, so `since` 50 is the oldest position that still recovers.
        let fromFifty = try await broker.recover(channel: "app.cap", policy: Self.ordered, since: StreamPosition(epoch: "E", offset: 50))
        #expect(fromFifty.recovered == true)
        #expect(fromFifty.publications.map(\.offset) == Array(51...150))
        let fromFortyNine = try await broker.recover(channel: "app.cap", policy: Self.ordered, since: StreamPosition(epoch: "E", offset: 49))
        #expect(fromFortyNine.recovered == false)
        #expect(fromFortyNine.publications.isEmpty)
        #expect(fromFortyNine.position == StreamPosition(epoch: "E", offset: 150))
    }

    @Test func historyTTL() async throws {
        let policy = ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .milliseconds(50), subscribe: .read, publish: .publish)
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.ttl", count: 3, policy: policy)
        let fresh = try await broker.recover(channel: "app.ttl", policy: policy, since: StreamPosition(epoch: "E", offset: 1))
        #expect(fresh.recovered == true)
        #expect(fresh.publications.map(\.offset) == [2, 3])

        try await Task.sleep(for: .milliseconds(120))
        let history = try await broker.history(channel: "app.ttl", policy: policy, limit: 100)
        #expect(history.publications.isEmpty)
        #expect(history.position == StreamPosition(epoch: "E", offset: 3))
        let expired = try await broker.recover(channel: "app.ttl", policy: policy, since: StreamPosition(epoch: "E", offset: 1))
        #expect(expired.recovered == false)
        #expect(expired.publications.isEmpty)
        // Already up to date: nothing was missed, so nothing is lost.
        let upToDate = try await broker.recover(channel: "app.ttl", policy: policy, since: StreamPosition(epoch: "E", offset: 3))
        #expect(upToDate.recovered == true)

        try await publish(broker, "app.ttl", count: 1, policy: policy, from: 4)
        let afterNew = try await broker.recover(channel: "app.ttl", policy: policy, since: StreamPosition(epoch: "E", offset: 3))
        #expect(afterNew.recovered == true)
        #expect(afterNew.publications.map(\.offset) == [4])
        #expect(try await broker.history(channel: "app.ttl", policy: policy, limit: 100).publications.map(\.offset) == [4])
    }

    @Test func recoverSinceTop() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.r", count: 5)
        let recovery = try await broker.recover(channel: "app.r", policy: Self.ordered, since: StreamPosition(epoch: "E", offset: 5))
        #expect(recovery.recovered == true)
        #expect(recovery.publications.isEmpty)
        #expect(recovery.position == StreamPosition(epoch: "E", offset: 5))
    }

    @Test func recoverSinceWithinHistoryReturnsExactlyTheMissedOnes() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.r", count: 10)
        for since in UInt64(0)...9 {
            let recovery = try await broker.recover(channel: "app.r", policy: Self.ordered, since: StreamPosition(epoch: "E", offset: since))
            #expect(recovery.recovered == true)
            #expect(recovery.publications.map(\.offset) == Array((since + 1)...10))
            #expect(recovery.publications.map(\.data) == ((Int(since) + 1)...10).map(data))
        }
    }

    @Test func recoverWithWrongEpoch() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.r", count: 3)
        for offset: UInt64 in [0, 1, 3] {
            let recovery = try await broker.recover(channel: "app.r", policy: Self.ordered, since: StreamPosition(epoch: "OLD", offset: offset))
            #expect(recovery.recovered == false)
            #expect(recovery.publications.isEmpty)
            #expect(recovery.position == StreamPosition(epoch: "E", offset: 3))
        }
    }

    @Test func recoverSinceBeyondTop() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        try await publish(broker, "app.r", count: 3)
        let recovery = try await broker.recover(channel: "app.r", policy: Self.ordered, since: StreamPosition(epoch: "E", offset: 4))
        #expect(recovery.recovered == false)
        #expect(recovery.publications.isEmpty)
        #expect(recovery.position == StreamPosition(epoch: "E", offset: 3))
    }

    @Test func recoverWithoutSince() async throws {
        let broker = InProcessBroker(makeEpoch: { "E" })
        // A channel nobody published to yet: offset 0.
        let empty = try await broker.recover(channel: "app.new", policy: Self.ordered, since: nil)
        #expect(empty.position == StreamPosition(epoch: "E", offset: 0))
        #expect(empty.publications.isEmpty)
        #expect(empty.recovered == nil)

        try await publish(broker, "app.o", count: 4)
        let ordered = try await broker.recover(channel: "app.o", policy: Self.ordered, since: nil)
        #expect(ordered.position.offset == 4)
        #expect(ordered.publications.isEmpty)
        #expect(ordered.recovered == nil)

        try await publish(broker, "telemetry.host", count: 3, policy: Self.latest)
        let latest = try await broker.recover(channel: "telemetry.host", policy: Self.latest, since: nil)
        #expect(latest.position == StreamPosition(epoch: "E", offset: 3))
        #expect(latest.publications.isEmpty)
        #expect(latest.latest?.offset == 3)
        #expect(latest.latest?.data == data(3))
        #expect(latest.recovered == nil)
        let stale = try await broker.recover(channel: "telemetry.host", policy: Self.latest, since: StreamPosition(epoch: "gone", offset: 9))
        #expect(stale.recovered == false)
        #expect(stale.latest?.offset == 3)
        #expect(try await broker.history(channel: "telemetry.host", policy: Self.latest, limit: 10).publications.map(\.offset) == [3])
    }

    @Test func health() async {
        let broker = InProcessBroker()
        #expect(broker.kind == "in-process")
        #expect(await broker.health() == ComponentHealth(healthy: true, details: ["kind": "in-process"]))
    }

    // MARK: ChannelHistory directly

    @Test func channelHistoryRecover() {
        var history = ChannelHistory(epoch: "H")
        let policy = ChannelPolicy(delivery: .ordered, historySize: 3, historyTTL: nil, subscribe: .read, publish: .publish)
        let now = ContinuousClock.now
        #expect(history.recover(since: StreamPosition(epoch: "H", offset: 0)).recovered == true)
        for i in 1...5 { _ = history.append(data: data(i), channel: "app.h", policy: policy, now: now) }
        #expect(history.position == StreamPosition(epoch: "H", offset: 5))
        #expect(history.publications.map(\.offset) == [3, 4, 5])
        #expect(history.recover(since: StreamPosition(epoch: "H", offset: 2)).publications.map(\.offset) == [3, 4, 5])
        #expect(history.recover(since: StreamPosition(epoch: "H", offset: 1)).recovered == false)
        #expect(history.recover(since: StreamPosition(epoch: "H", offset: 4)).publications.map(\.offset) == [5])
        #expect(history.newest(2).map(\.offset) == [4, 5])
    }

    @Test func channelHistoryExpiresByInjectedClock() {
        var history = ChannelHistory(epoch: "H")
        let policy = ChannelPolicy(delivery: .ordered, historySize: 10, historyTTL: .seconds(10), subscribe: .read, publish: .publish)
        let start = ContinuousClock.now
        _ = history.append(data: data(1), channel: "app.h", policy: policy, now: start)
        _ = history.append(data: data(2), channel: "app.h", policy: policy, now: start + .seconds(5))
        history.expire(policy: policy, now: start + .seconds(10))
        #expect(history.publications.map(\.offset) == [1, 2])  // exactly at the TTL: kept
        history.expire(policy: policy, now: start + .seconds(11))
        #expect(history.publications.map(\.offset) == [2])
        history.expire(policy: policy, now: start + .seconds(16))
        #expect(history.publications.isEmpty)
        #expect(history.position.offset == 2)
    }
}

@Suite("InProcessBroker memory bounds")
struct InProcessBrokerPruningTests {
    static let ordered = ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .milliseconds(30), subscribe: .read, publish: .publish)

    @Test("listening to and reading never-published channels leaves no state behind")
    func unpublishedChannelsAreForgotten() async throws {
        let broker = InProcessBroker()
        for i in 0..<50 {
            let name = "app.tmp\(i)"
            await broker.setInterest(true, in: name)
            _ = try await broker.recover(channel: name, policy: Self.ordered, since: nil)
            await broker.setInterest(false, in: name)
            _ = try await broker.history(channel: "app.read\(i)", policy: Self.ordered, limit: 10)
        }
        #expect(await broker.channels().isEmpty)
    }

    @Test("prune forgets expired, quiet, unwatched channels and keeps the rest")
    func prune() async throws {
        let broker = InProcessBroker()
        _ = try await broker.publish(channel: "app.old", data: Array("1".utf8), policy: Self.ordered)
        _ = try await broker.publish(channel: "app.watched", data: Array("1".utf8), policy: Self.ordered)
        await broker.setInterest(true, in: "app.watched")
        try await Task.sleep(for: .milliseconds(60))
        _ = try await broker.publish(channel: "app.fresh", data: Array("1".utf8), policy: Self.ordered)
        broker.prune(idle: .milliseconds(40)) { _ in Self.ordered }
        #expect(Set(await broker.channels().keys) == ["app.watched", "app.fresh"])
    }
}
