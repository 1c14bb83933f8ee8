import NIOPosix
import Testing

@testable import Redis

@Suite("RedisLease against a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisLeaseTests {
    @Test("one holder at a time; renewing keeps it, releasing hands it over, expiry frees it")
    func oneHolder() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let connection = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        let a = RedisLease(name: "producers", holder: "a", ttl: .milliseconds(300), sender: connection)
        let b = RedisLease(name: "producers", holder: "b", ttl: .milliseconds(300), sender: connection)
        #expect(try await a.acquireOrRenew())
        #expect(try await !b.acquireOrRenew())
        #expect(try await a.acquireOrRenew())  // renewed
        #expect(try await a.currentHolder() == "a")
        try await b.release()  // not b's to release
        #expect(try await a.currentHolder() == "a")
        try await a.release()
        #expect(try await b.acquireOrRenew())
        // b stops renewing: the lease runs out and a can take it.
        try await Task.sleep(for: .milliseconds(450))
        #expect(try await a.currentHolder() == nil)
        #expect(try await a.acquireOrRenew())
    }
}
