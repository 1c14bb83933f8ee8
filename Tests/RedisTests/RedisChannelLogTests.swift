import Foundation
import NIOPosix
import Testing

@testable import Redis

@Suite("Channel offsets and history in a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RedisChannelLogTests {
    static func connect(_ redis: LocalRedis) async throws -> RedisConnection {
        try await RedisConnection.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
    }

    @Test("offsets rise by one in one epoch; a client behind by some gets exactly what it missed")
    func appendAndRead() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let log = RedisChannelLog(connection: try await Self.connect(redis))
        var epochs: Set<String> = []
        for i in 1...5 {
            let (epoch, offset) = try await log.append(channel: "app.a", data: Array("\(i)".utf8), historySize: 100, historyAge: nil, newEpoch: "e\(i)")
            #expect(offset == UInt64(i))
            epochs.insert(epoch)
        }
        #expect(epochs == ["e1"])  // the first publication fixed the epoch
        let behind = try await log.read(channel: "app.a", after: 2, epoch: "e1", newEpoch: "x")
        #expect(behind.complete && behind.offset == 5 && behind.entries.map(\.offset) == [3, 4, 5])
        #expect(behind.entries.map { String(decoding: $0.data, as: UTF8.self) } == ["3", "4", "5"])
        let current = try await log.read(channel: "app.a", after: 5, epoch: "e1", newEpoch: "x")
        #expect(current.complete && current.entries.isEmpty)
        let otherEpoch = try await log.read(channel: "app.a", after: 2, epoch: "old", newEpoch: "x")
        #expect(!otherEpoch.complete && otherEpoch.epoch == "e1")
        let fromTheFuture = try await log.read(channel: "app.a", after: 9, epoch: "e1", newEpoch: "x")
        #expect(!fromTheFuture.complete)
        // A channel never published to gets its epoch when first read, and keeps it.
        let fresh = try await log.read(channel: "app.new", after: nil, epoch: nil, newEpoch: "n1")
        #expect(fresh.epoch == "n1" && fresh.offset == 0)
        #expect(try await log.append(channel: "app.new", data: [1], historySize: 10, historyAge: nil, newEpoch: "n2") == ("n1", 1))
    }

    @Test("a channel nobody publishes to expires: 30 days after its last publication, a day after a read")
    func idleChannelsExpire() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let connection = try await Self.connect(redis)
        let log = RedisChannelLog(connection: connection)
        _ = try await log.read(channel: "app.read-only", after: nil, epoch: nil, newEpoch: "r")
        #expect(try await connection.send(RESPCommand("TTL", "nebula:{app.read-only}:meta")) == .integer(Int64(RedisChannelLog.unpublishedChannelSeconds)))
        _ = try await log.append(channel: "app.read-only", data: [1], historySize: 10, historyAge: nil, newEpoch: "e")
        for key in ["nebula:{app.read-only}:meta", "nebula:{app.read-only}:log"] {
            guard case .integer(let ttl) = try await connection.send(RESPCommand("TTL", key)) else { Issue.record("no TTL on \(key)"); continue }
            #expect(ttl > Int64(RedisChannelLog.unpublishedChannelSeconds) && ttl <= Int64(RedisChannelLog.idleChannelSeconds), "\(key)")
        }
    }

    @Test("publishing goes by script digest; a server that forgot the script (restart, SCRIPT FLUSH) gets it again")
    func scriptDigest() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let connection = try await Self.connect(redis)
        let log = RedisChannelLog(connection: connection)
        #expect(try await connection.send(RESPCommand("SCRIPT", "EXISTS", RedisChannelLog.publishScript.digest)) == .array([.integer(0)]))
        _ = try await log.append(channel: "d", data: [1], historySize: 10, historyAge: nil, newEpoch: "e")
        // The fallback loaded it under the digest we send.
        #expect(try await connection.send(RESPCommand("SCRIPT", "EXISTS", RedisChannelLog.publishScript.digest)) == .array([.integer(1)]))
        _ = try await connection.send(RESPCommand("SCRIPT", "FLUSH"))
        #expect(try await log.append(channel: "d", data: [2], historySize: 10, historyAge: nil, newEpoch: "e").offset == 2)
        #expect(try await log.append(channel: "d", data: [3], historySize: 10, historyAge: nil, newEpoch: "e").offset == 3)
        // Three by digest (two refused while the server lacked the script), the text only twice.
        let stats = try await connection.send(RESPCommand("INFO", "commandstats")).string ?? ""
        let evalsha = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_evalsha:") } ?? ""
        #expect(evalsha.hasPrefix("cmdstat_evalsha:calls=3,") && evalsha.contains("failed_calls=2"), "\(stats)")
        #expect(stats.contains("cmdstat_eval:calls=2,"), "\(stats)")
    }

    @Test("history keeps the newest N and nothing older than its age; beyond that, recovery says so")
    func trimming() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let log = RedisChannelLog(connection: try await Self.connect(redis))
        for i in 1...10 { _ = try await log.append(channel: "c", data: [UInt8(i)], historySize: 3, historyAge: nil, newEpoch: "e") }
        #expect(try await log.read(channel: "c", after: 5, epoch: "e", newEpoch: "x").complete == false)
        let recent = try await log.read(channel: "c", after: 7, epoch: "e", newEpoch: "x")
        #expect(recent.complete && recent.entries.map(\.data) == [[8], [9], [10]])

        _ = try await log.append(channel: "aged", data: [1], historySize: 100, historyAge: .milliseconds(200), newEpoch: "e")
        try await Task.sleep(for: .milliseconds(350))
        _ = try await log.append(channel: "aged", data: [2], historySize: 100, historyAge: .milliseconds(200), newEpoch: "e")
        #expect(try await log.read(channel: "aged", after: 0, epoch: "e", newEpoch: "x").complete == false)
        #expect(try await log.newestEntries(channel: "aged", count: 10).map(\.offset) == [2])
    }

    @Test("two replicas publishing at once share one sequence; subscribers see it in offset order")
    func twoReplicas() async throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let subscriber = try await RedisSubscriber.connect(host: "127.0.0.1", port: redis.port, on: MultiThreadedEventLoopGroup.singleton)
        try await subscriber.subscribe([RedisChannelLog.pubSubChannel("app.shared")])
        let a = RedisChannelLog(connection: try await Self.connect(redis))
        let b = RedisChannelLog(connection: try await Self.connect(redis))
        let offsets = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for i in 0..<400 {
                let log = i.isMultiple(of: 2) ? a : b
                group.addTask {
                    try await log.append(channel: "app.shared", data: Array("\(i)\n".utf8), historySize: 1000, historyAge: nil, newEpoch: "e").offset
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(Set(offsets) == Set(1...400))
        var received: [UInt64] = []
        for await message in subscriber.messages {
            guard let (epoch, offset, data) = RedisChannelLog.decode(message.payload) else { Issue.record("undecodable"); break }
            #expect(epoch == "e" && data.last == 10)  // data with a newline survives
            received.append(offset)
            if received.count == 400 { break }
        }
        #expect(received == Array(1...400))
        await subscriber.close()
    }
}
