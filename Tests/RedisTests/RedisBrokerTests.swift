import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import Logging
import Testing

@testable import Realtime
@testable import Redis

@Suite("RedisBroker: two brokers sharing a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisBrokerTests {
    static let ordered = ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .seconds(600), subscribe: .read, publish: .publish)

    final class Received: Sendable {
        let publications = NIOLockedValueBox([Publication]())
        let lost = NIOLockedValueBox([String]())
        var offsets: [UInt64] { publications.withLockedValue { $0.map(\.offset) } }
    }

    /// A started broker and what it delivered; `stop()` cancels its connections.
    struct Running {
        let broker: RedisBroker
        let received: Received
        let task: Task<Void, Never>
        func stop() { task.cancel() }
    }

    static func start(_ redis: LocalRedis, replica: String) async throws -> Running {
        var options = RedisBroker.Options()
        options.probeInterval = .milliseconds(100)
        options.stuckAfter = .milliseconds(300)
        let broker = RedisBroker(
            url: RedisURL(host: "127.0.0.1", port: redis.port), replicaID: replica, registry: .standard, options: options,
            group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test")
        )
        let received = Received()
        broker.start(
            deliver: { publication in received.publications.withLockedValue { $0.append(publication) } },
            lost: { channel, _ in received.lost.withLockedValue { $0.append(channel) } }
        )
        let task = Task { do { try await broker.run() } catch {} }
        try await eventually("broker \(replica) healthy") { await broker.health().healthy }
        return Running(broker: broker, received: received, task: task)
    }

    /// Brokers `a` and `b` on a redis-server of their own, for the length of `body`.
    static func withTwoBrokers(_ body: (LocalRedis, Running, Running) async throws -> Void) async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let a = try await start(redis, replica: "a"), b = try await start(redis, replica: "b")
        defer { a.stop(); b.stop() }
        try await body(redis, a, b)
    }

    static func eventually(_ what: String, within limit: Duration = .seconds(10), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("never happened: \(what)")
        throw CancellationError()
    }

    @Test("a publication on one broker reaches the other once, in offset order; recovery works on either")
    func fanOutAndRecover() async throws {
        try await Self.withTwoBrokers { _, a, b in
            await b.broker.setInterest(true, in: "app.x")
            var epoch = ""
            for i in 1...50 {
                let publication = try await a.broker.publish(channel: "app.x", data: Array("\(i)".utf8), policy: Self.ordered)
                #expect(publication.offset == UInt64(i))
                epoch = publication.position.epoch
            }
            try await Self.eventually("50 delivered on b") { b.received.offsets.count >= 50 }
            #expect(b.received.offsets == Array(1...50))
            #expect(a.received.offsets.isEmpty)  // no local subscribers on a: nothing subscribed there
            let recovery = try await b.broker.recover(channel: "app.x", policy: Self.ordered, since: StreamPosition(epoch: epoch, offset: 45))
            #expect(recovery.recovered == true && recovery.publications.map(\.offset) == [46, 47, 48, 49, 50])
            let stale = try await a.broker.recover(channel: "app.x", policy: Self.ordered, since: StreamPosition(epoch: "other", offset: 45))
            #expect(stale.recovered == false && stale.publications.isEmpty && stale.position == StreamPosition(epoch: epoch, offset: 50))
            #expect(await a.broker.channels()["app.x"] == StreamPosition(epoch: epoch, offset: 50))
        }
    }

    @Test("latest-value channels hand the newest publication to a fresh or a failed recovery")
    func latestValue() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let a = try await Self.start(redis, replica: "a")
        defer { a.stop() }
        let latest = ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)
        let empty = try await a.broker.recover(channel: "telemetry.host", policy: latest, since: nil)
        #expect(empty.latest == nil && empty.position.offset == 0)
        for i in 1...3 { _ = try await a.broker.publish(channel: "telemetry.host", data: Array("\(i)".utf8), policy: latest) }
        let fresh = try await a.broker.recover(channel: "telemetry.host", policy: latest, since: nil)
        #expect(fresh.latest?.offset == 3 && fresh.latest?.data == Array("3".utf8) && fresh.publications.isEmpty && fresh.recovered == nil)
        let behind = try await a.broker.recover(channel: "telemetry.host", policy: latest, since: StreamPosition(epoch: fresh.position.epoch, offset: 1))
        #expect(behind.recovered == false && behind.latest?.offset == 3)
        let current = try await a.broker.recover(channel: "telemetry.host", policy: latest, since: fresh.position)
        #expect(current.recovered == true && current.publications.isEmpty && current.latest?.offset == 3)
    }

    @Test("interest maps to Redis subscriptions; a channel nobody listens to is not subscribed")
    func interest() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let a = try await Self.start(redis, replica: "a")
        defer { a.stop() }
        func channels() throws -> Set<String> {
            guard case .array(let names)? = try LocalRedis.exchange(port: redis.port, RESPCommand("PUBSUB", "CHANNELS", "nebula:pub:*")) else { return [] }
            return Set(names.compactMap(\.string))
        }
        #expect(try channels().isEmpty)
        await a.broker.setInterest(true, in: "app.one")
        await a.broker.setInterest(true, in: "app.two")
        #expect(try channels() == ["nebula:pub:app.one", "nebula:pub:app.two"])  // confirmed before setInterest returned
        await a.broker.setInterest(false, in: "app.one")
        try await Self.eventually("app.one unsubscribed") { (try? channels()) == ["nebula:pub:app.two"] }
    }

    @Test("interest dropped and taken back while Redis still unsubscribes: setInterest returns only once the channel is subscribed again")
    func interestTakenBack() async throws {
        try await Self.withTwoBrokers { _, a, b in
            await b.broker.setInterest(true, in: "app.back")
            var published: [UInt64] = []
            for round in 0..<150 {
                // The last subscriber leaves and a new one arrives while the UNSUBSCRIBE may be in flight
                // (a history_lost resubscribe does exactly this).
                await b.broker.setInterest(false, in: "app.back")
                if round % 3 == 1 { await Task.yield() }
                if round % 3 == 2 { try await Task.sleep(for: .microseconds(200)) }
                await b.broker.setInterest(true, in: "app.back")
                published.append(try await a.broker.publish(channel: "app.back", data: [1], policy: Self.ordered).offset)
                try await Self.eventually("round \(round): offset \(published.last!) delivered", within: .seconds(2)) {
                    b.received.offsets.contains(published.last!)
                }
            }
            #expect(b.received.offsets == published)
        }
    }

    @Test("a release that reaches the broker after the next subscriber's declaration keeps the channel subscribed")
    func releaseAfterDeclaration() async throws {
        try await Self.withTwoBrokers { _, a, b in
            await b.broker.setInterest(true, in: "app.late")
            await b.broker.setInterest(true, in: "app.late")  // the next subscriber's declaration overtook…
            await b.broker.setInterest(false, in: "app.late")  // …the previous one's release
            let offset = try await a.broker.publish(channel: "app.late", data: [1], policy: Self.ordered).offset
            try await Self.eventually("still delivered") { b.received.offsets == [offset] }
            await b.broker.setInterest(false, in: "app.late")
            try await Self.eventually("unsubscribed once both released") { await b.broker.health().details["subscriptions"] == "0" }
        }
    }

    @Test("history wiped in Redis: subscribers of an ordered channel are declared lost, never silently continued")
    func lostHistory() async throws {
        try await Self.withTwoBrokers { redis, a, b in
            await b.broker.setInterest(true, in: "app.w")
            for i in 1...3 { _ = try await a.broker.publish(channel: "app.w", data: [UInt8(48 + i)], policy: Self.ordered) }
            try await Self.eventually("3 delivered") { b.received.offsets.count == 3 }
            _ = try LocalRedis.exchange(port: redis.port, RESPCommand("FLUSHALL"))
            let fresh = try await a.broker.publish(channel: "app.w", data: [65], policy: Self.ordered)
            #expect(fresh.offset == 1)
            try await Self.eventually("declared lost") { b.received.lost.withLockedValue { $0 } == ["app.w"] }
            #expect(b.received.offsets == [1, 2, 3])
        }
    }

    @Test("Redis gone: unhealthy with the reason, and publishing fails with a clear error")
    func outage() async throws {
        let redis = try LocalRedis()
        let a = try await Self.start(redis, replica: "a")
        defer { a.stop() }
        redis.stop()
        try await Self.eventually("unhealthy") { await !a.broker.health().healthy }
        #expect(await a.broker.health().details["error"] != nil)
        do {
            _ = try await a.broker.publish(channel: "app.down", data: [1], policy: Self.ordered)
            Issue.record("publishing without Redis must fail")
        } catch {
            #expect(error.description.contains("Redis"))
        }
    }
}
