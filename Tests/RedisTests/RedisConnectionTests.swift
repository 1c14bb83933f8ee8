import Foundation
import NIOPosix
import Testing

@testable import Redis

@Suite("A pipelined connection to a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisConnectionTests {
    @Test("a thousand commands from many tasks at once: each gets its own reply")
    func pipelining() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let connection = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, database: 2, on: MultiThreadedEventLoopGroup.singleton)
        let replies = try await withThrowingTaskGroup(of: RESPValue.self) { group in
            for _ in 0..<1000 { group.addTask { try await connection.send(RESPCommand("INCR", "counter")) } }
            return try await group.reduce(into: [RESPValue]()) { $0.append($1) }
        }
        #expect(Set(replies) == Set((1...1000).map { RESPValue.integer(Int64($0)) }))
        // SELECT 2 took effect: database 0 has no counter.
        #expect(try LocalRedis.exchange(port: redis.port, RESPCommand("GET", "counter")) == .null)
        await connection.close()
    }

    @Test("an error reply throws with the server's words; the connection goes on")
    func errorReply() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let connection = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        _ = try await connection.send(RESPCommand("SET", "s", "text"))
        await #expect(throws: RedisError.self) { try await connection.send(RESPCommand("LPUSH", "s", "x")) }
        #expect(try await connection.send(RESPCommand("GET", "s")) == .bulkString(Array("text".utf8)))
        await connection.close()
    }

    @Test("a server that dies fails what is waiting and what comes after; a closed port fails to connect")
    func deadServer() async throws {
        let redis = try LocalRedis()
        let connection = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        // BLPOP holds the reply until the server goes away.
        let waiting = Task { try await connection.send(RESPCommand("BLPOP", "never", "0")) }
        try await Task.sleep(for: .milliseconds(100))
        redis.stop()
        await #expect(throws: RedisError.self) { try await waiting.value }
        await #expect(throws: RedisError.self) { try await connection.send(RESPCommand("PING")) }
        #expect(!connection.isActive)
        await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        }
    }
}
