import Foundation
import Testing

@testable import Redis

/// A redis-server of our own on a free loopback port, no persistence. Spawned with posix_spawn and
/// its output on /dev/null: Foundation's Process leaves the test runner waiting on a pipe the
/// server still holds.
final class LocalRedis {
    let port: Int
    private let pid: pid_t
    private let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = Int.random(in: 20_000..<60_000)
        let argv = ["/usr/bin/redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw RedisError.connectionClosed("cannot start redis-server: \(String(cString: strerror(spawned)))") }
        self.pid = pid
        for _ in 0..<100 {
            if (try? Self.exchange(port: port, RESPCommand("PING"))) == .simpleString("PONG") { return }
            usleep(50_000)
        }
        stop()
        throw RedisError.connectionClosed("redis-server did not start on \(port)")
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        try? FileManager.default.removeItem(at: directory)
    }

    /// The last reply to `commands`, sent on one fresh connection.
    static func exchange(port: Int, _ commands: RESPCommand...) throws -> RESPValue? {
        try exchangeAll(port: port, commands).last
    }
}

@Suite("RESP against a real redis-server", .serialized, .timeLimit(.minutes(1)))
struct RealRedisTests {
    @Test("binary values round-trip; pipelined commands answer in order; errors come back as errors")
    func roundTrip() throws {
        let redis = try LocalRedis()
        defer { redis.stop() }
        let value: [UInt8] = Array(0...255)
        #expect(try LocalRedis.exchange(port: redis.port, RESPCommand("SET", [Array("blob".utf8), value])) == .simpleString("OK"))
        #expect(try LocalRedis.exchange(port: redis.port, RESPCommand("GET", "blob")) == .bulkString(value))
        let incrs = Array(repeating: RESPCommand("INCR", "n"), count: 100)
        #expect(try LocalRedis.exchange(port: redis.port, incrs[0]) == .integer(1))
        let pipelined = try LocalRedis.exchangeAll(port: redis.port, incrs)
        #expect(pipelined == (2...101).map { .integer(Int64($0)) })
        guard case .error(let message)? = try LocalRedis.exchange(port: redis.port, RESPCommand("LPUSH", "blob", "x")) else {
            Issue.record("LPUSH on a string must be an error reply"); return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(try LocalRedis.exchange(port: redis.port, RESPCommand("GET", "missing")) == .null)
    }
}

extension LocalRedis {
    static func exchangeAll(port: Int, _ commands: [RESPCommand]) throws -> [RESPValue] {
        // One connection, all commands written at once: replies must come back whole and in order.
        var results: [RESPValue] = []
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let wire = commands.flatMap(\.bytes)
        _ = wire.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let reader = RESPReader()
        var buffer = [UInt8](repeating: 0, count: 7)  // small reads: replies arrive split
        while results.count < commands.count {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            try buffer[0..<count].withUnsafeBytes { try reader.feed($0) }
            while let reply = try reader.next() { results.append(reply) }
        }
        return results
    }
}
