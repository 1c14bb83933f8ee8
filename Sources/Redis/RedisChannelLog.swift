import Crypto

/// A channel's offsets, epoch and capped history kept in Redis, so every replica assigns offsets
/// from one sequence and can replay what a client missed.
///
/// Keys, with the channel in a hash tag so a cluster keeps them on one node:
/// `nebula:{<channel>}:meta` (hash: `epoch`, `offset`) and `nebula:{<channel>}:log` (stream of
/// `o` offset, `d` data). Publishing is one script call: next offset, append and trim history,
/// PUBLISH to `nebula:pub:<channel>` — one round trip, and no replica can interleave.
public struct RedisChannelLog: Sendable {
    /// A publication as Redis holds it.
    public struct Entry: Sendable, Equatable {
        public var offset: UInt64
        public var data: [UInt8]

        public init(offset: UInt64, data: [UInt8]) {
            self.offset = offset
            self.data = data
        }
    }

    /// What `read(after:)` found.
    public struct Replay: Sendable, Equatable {
        public var epoch: String
        public var offset: UInt64
        /// Everything after the asked-for offset, oldest first, when `complete`.
        public var entries: [Entry]
        /// False when the epoch changed or history was trimmed past the asked-for offset.
        public var complete: Bool
    }

    let connection: RedisConnection

    public init(connection: RedisConnection) {
        self.connection = connection
    }

    public static func pubSubChannel(_ channel: String) -> String { "nebula:pub:\(channel)" }
    static func metaKey(_ channel: String) -> String { "nebula:{\(channel)}:meta" }
    static func logKey(_ channel: String) -> String { "nebula:{\(channel)}:log" }

    /// KEYS: meta, log. ARGV: data, history size, history age in ms (0: none), a fresh epoch in case
    /// the channel has none, the pub/sub channel. Answers {epoch, offset}.
    static let publishScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[4]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
        local size = tonumber(ARGV[2])
        if size > 0 then
          redis.call('XADD', KEYS[2], 'MAXLEN', size, '*', 'o', offset, 'd', ARGV[1])
          local age = tonumber(ARGV[3])
          if age > 0 then
            local now = redis.call('TIME')
            local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - age
            redis.call('XTRIM', KEYS[2], 'MINID', cutoff)
          end
        end
        redis.call('PUBLISH', ARGV[5], epoch .. '\\n' .. offset .. '\\n' .. ARGV[1])
        return {epoch, offset}
        """

    /// SHA-1 of `publishScript`, as EVALSHA names it.
    static let publishScriptDigest = Insecure.SHA1.hash(data: Array(publishScript.utf8))
        .map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()

    /// Assigns the next offset, keeps the data in history (`historySize` newest, none older than
    /// `historyAge`), and publishes it to every replica listening.
    public func append(
        channel: String, data: [UInt8], historySize: Int, historyAge: Duration?, newEpoch: String
    ) async throws(RedisError) -> (epoch: String, offset: UInt64) {
        let ageMilliseconds = historyAge.map { $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 } ?? 0
        let arguments = [
            Array("2".utf8), Array(Self.metaKey(channel).utf8), Array(Self.logKey(channel).utf8),
            data, Array("\(max(0, historySize))".utf8), Array("\(max(0, ageMilliseconds))".utf8), Array(newEpoch.utf8),
            Array(Self.pubSubChannel(channel).utf8),
        ]
        let reply: RESPValue
        do {
            // By digest: the script text crosses the network only when the server does not know it.
            reply = try await connection.send(RESPCommand("EVALSHA", [Array(Self.publishScriptDigest.utf8)] + arguments))
        } catch {
            guard case .server(_, let message) = error, message.hasPrefix("NOSCRIPT") else { throw error }
            reply = try await connection.send(RESPCommand("EVAL", [Array(Self.publishScript.utf8)] + arguments))
        }
        guard case .array(let parts) = reply, parts.count == 2, let epoch = parts[0].string, case .integer(let offset) = parts[1] else {
            throw .protocolError("unexpected reply to the publish script: \(reply)")
        }
        return (epoch, UInt64(offset))
    }

    /// The channel's position and, when history still reaches back, everything after `offset` in
    /// `epoch`. A channel never published to has no epoch: it gets `newEpoch` now, so positions
    /// handed out before the first publication stay valid.
    public func read(channel: String, after offset: UInt64?, epoch: String?, newEpoch: String) async throws(RedisError) -> Replay {
        _ = try await connection.send(RESPCommand("HSETNX", Self.metaKey(channel), "epoch", newEpoch))
        let meta = try await connection.send(RESPCommand("HMGET", Self.metaKey(channel), "epoch", "offset"))
        guard case .array(let fields) = meta, fields.count == 2, let current = fields[0].string else {
            throw .protocolError("unexpected reply to HMGET: \(meta)")
        }
        let newest = fields[1].string.flatMap { UInt64($0) } ?? 0
        guard let offset, epoch == current, offset <= newest else {
            return Replay(epoch: current, offset: newest, entries: [], complete: offset == nil)
        }
        let missing = newest - offset
        guard missing > 0 else { return Replay(epoch: current, offset: newest, entries: [], complete: true) }
        let entries = try await newestEntries(channel: channel, count: Int(min(missing, UInt64(Int32.max))))
        let wanted = entries.filter { $0.offset > offset }
        let complete = wanted.count == Int(missing) && wanted.first?.offset == offset + 1
        return Replay(epoch: current, offset: newest, entries: complete ? wanted : [], complete: complete)
    }

    /// The newest `count` entries still in history, oldest first.
    public func newestEntries(channel: String, count: Int) async throws(RedisError) -> [Entry] {
        guard count > 0 else { return [] }
        let reply = try await connection.send(RESPCommand("XREVRANGE", Self.logKey(channel), "+", "-", "COUNT", "\(count)"))
        guard case .array(let items) = reply else { return [] }
        var entries: [Entry] = []
        for item in items.reversed() {
            guard case .array(let pair) = item, pair.count == 2, case .array(let fields) = pair[1] else { continue }
            var entry = Entry(offset: 0, data: [])
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[index].string {
                case "o": entry.offset = fields[index + 1].string.flatMap { UInt64($0) } ?? 0
                case "d": if case .bulkString(let data) = fields[index + 1] { entry.data = data }
                default: continue
                }
            }
            entries.append(entry)
        }
        return entries
    }

    /// Splits a pub/sub payload back into epoch, offset and data.
    public static func decode(_ payload: [UInt8]) -> (epoch: String, offset: UInt64, data: [UInt8])? {
        guard let first = payload.firstIndex(of: 10),
            let second = payload[(first + 1)...].firstIndex(of: 10),
            let offset = UInt64(String(decoding: payload[(first + 1)..<second], as: UTF8.self))
        else { return nil }
        return (String(decoding: payload[..<first], as: UTF8.self), offset, Array(payload[(second + 1)...]))
    }
}
