import Foundation
import NIOPosix
import Testing

@testable import Redis

@Suite("Pub/sub against a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisSubscriberTests {
    static func next(_ iterator: inout AsyncStream<RedisMessage>.Iterator) async -> RedisMessage? {
        await iterator.next()
    }

    @Test("a batch of channels in one SUBSCRIBE; messages in publication order, binary-safe; UNSUBSCRIBE stops one")
    func subscribeAndReceive() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        let subscriber = try await RedisSubscriber.connect(host: "127.0.0.1", port: redis.port, on: group)
        let publisher = try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: group)
        try await subscriber.subscribe(["a", "b", "c"])
        // Once confirmed, the server counts this subscriber on every channel.
        for name in ["a", "b", "c"] {
            #expect(try await publisher.send(RESPCommand("PUBSUB", "NUMSUB", name)) == .array([.bulkString(Array(name.utf8)), .integer(1)]))
        }
        let binary: [UInt8] = [0, 13, 10, 255, 36]
        _ = try await publisher.send(RESPCommand("PUBLISH", [Array("b".utf8), binary]))
        for i in 0..<50 { _ = try await publisher.send(RESPCommand("PUBLISH", "a", "\(i)")) }
        var iterator = subscriber.messages.makeAsyncIterator()
        #expect(await Self.next(&iterator) == RedisMessage(channel: "b", payload: binary))
        for i in 0..<50 {
            #expect(await Self.next(&iterator) == RedisMessage(channel: "a", payload: Array("\(i)".utf8)))
        }

        try await subscriber.unsubscribe(["a"])
        #expect(try await publisher.send(RESPCommand("PUBLISH", "a", "lost")) == .integer(0))
        _ = try await publisher.send(RESPCommand("PUBLISH", "c", "kept"))
        // One connection keeps order: had "a" still been delivered, it would come first.
        #expect(await Self.next(&iterator) == RedisMessage(channel: "c", payload: Array("kept".utf8)))
        await subscriber.close()
        await publisher.close()
    }

    @Test("when the server dies the message stream ends and subscribing fails, so the owner knows to reconnect")
    func serverDies() async throws {
        let redis = try LocalRedis()
        let subscriber = try await RedisSubscriber.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        try await subscriber.subscribe(["x"])
        redis.stop()
        var iterator = subscriber.messages.makeAsyncIterator()
        #expect(await Self.next(&iterator) == nil)
        await #expect(throws: RedisError.self) { try await subscriber.subscribe(["y"]) }
    }
}
