/// A channel's offsets, epoch and capped history kept in Redis, so every replica assigns offsets
/// from one sequence and can replay what a client missed.
///
/// Keys, with the channel in a hash tag so a cluster keeps them on one node:
/// `nebula:{<channel>}:meta` (hash: `epoch`, `offset`) and `nebula:{<channel>}:log` (stream of
/// `o` offset, `d` data). Publishing is one script call: next offset, append and trim history,
/// PUBLISH to `nebula:pub:<channel>` — one round trip, and no replica can interleave. Reading is
/// one script call too, so the position and the entries it returns always agree.
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

    /// What a read found.
    public struct Replay: Sendable, Equatable {
        public var epoch: String
        public var offset: UInt64
        /// Oldest first: everything after the asked-for offset (when `complete`), or the newest N.
        public var entries: [Entry]
        /// False when the epoch changed or history was trimmed past the asked-for offset.
        public var complete: Bool
    }

    /// How long the position of a channel that was read but never published to is kept: a client
    /// holding it can still recover, yet subscribing to ever new names does not grow Redis.
    public static let unpublishedChannelSeconds = 86_400

    let sender: any RedisCommandSender

    public init(connection: any RedisCommandSender) {
        self.sender = connection
    }

    public static func pubSubChannel(_ channel: String) -> String { "nebula:pub:\(channel)" }
    static func metaKey(_ channel: String) -> String { "nebula:{\(channel)}:meta" }
    static func logKey(_ channel: String) -> String { "nebula:{\(channel)}:log" }

    /// The channel a meta key belongs to (for listing channels with SCAN).
    public static func channel(ofMetaKey key: String) -> String? {
        guard key.hasPrefix("nebula:{"), key.hasSuffix("}:meta") else { return nil }
        return String(key.dropFirst("nebula:{".count).dropLast("}:meta".count))
    }

    /// How long a channel nobody publishes to keeps its position and history: channels of
    /// containers long gone do not pile up in Redis forever.
    public static let idleChannelSeconds = 30 * 86_400

    /// KEYS: meta, log. ARGV: data, history size, history age in ms (0: none), a fresh epoch in case
    /// the channel has none, the pub/sub channel, seconds an idle channel is kept. Answers {epoch, offset}.
    static let publishScript = RedisScript("""
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[4]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
        end
        redis.call('EXPIRE', KEYS[1], ARGV[6])
        local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
        local size = tonumber(ARGV[2])
        if size > 0 then
          redis.call('XADD', KEYS[2], 'MAXLEN', size, '*', 'o', offset, 'd', ARGV[1])
          local age = tonumber(ARGV[3])
          if age > 0 then
            local now = redis.call('TIME')
            local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - age
            redis.call('XTRIM', KEYS[2], 'MINID', cutoff)
            redis.call('PEXPIRE', KEYS[2], age)
          else
            redis.call('EXPIRE', KEYS[2], ARGV[6])
          end
        end
        redis.call('PUBLISH', ARGV[5], epoch .. '\\n' .. offset .. '\\n' .. ARGV[1])
        return {epoch, offset}
        """)

    /// KEYS: meta, log. ARGV: a fresh epoch in case the channel has none, history age in ms (0:
    /// none), the offset to read after ('' for the newest entries), the epoch that offset belongs
    /// to, the most entries wanted, seconds to keep a new unpublished position. Answers
    /// {epoch, offset, o1, d1, o2, d2, …} oldest first.
    static let readScript = RedisScript("""
        if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
          redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
        end
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
        local epoch = meta[1]
        local newest = tonumber(meta[2] or '0')
        local age = tonumber(ARGV[2])
        if age > 0 then
          local now = redis.call('TIME')
          local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - age
          redis.call('XTRIM', KEYS[2], 'MINID', cutoff)
        end
        local count = tonumber(ARGV[5])
        if ARGV[3] ~= '' then
          if ARGV[4] ~= epoch then
            count = 0
          else
            count = math.min(count, newest - tonumber(ARGV[3]))
          end
        end
        local result = {epoch, newest}
        if count > 0 then
          local items = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', count)
          for i = #items, 1, -1 do
            local fields = items[i][2]
            for f = 1, #fields, 2 do
              if fields[f] == 'o' then result[#result + 1] = fields[f + 1] end
            end
            for f = 1, #fields, 2 do
              if fields[f] == 'd' then result[#result + 1] = fields[f + 1] end
            end
          end
        end
        return result
        """)

    /// Assigns the next offset, keeps the data in history (`historySize` newest, none older than
    /// `historyAge`), and publishes it to every replica listening.
    public func append(
        channel: String, data: [UInt8], historySize: Int, historyAge: Duration?, newEpoch: String
    ) async throws(RedisError) -> (epoch: String, offset: UInt64) {
        let arguments = [
            data, Array("\(max(0, historySize))".utf8), Array("\(Self.milliseconds(historyAge))".utf8), Array(newEpoch.utf8),
            Array(Self.pubSubChannel(channel).utf8), Array("\(Self.idleChannelSeconds)".utf8),
        ]
        let reply = try await Self.publishScript.evaluate(on: sender, keys: [Self.metaKey(channel), Self.logKey(channel)], arguments: arguments)
        guard case .array(let parts) = reply, parts.count == 2, let epoch = parts[0].string, case .integer(let offset) = parts[1] else {
            throw .protocolError("unexpected reply to the publish script: \(reply)")
        }
        return (epoch, UInt64(offset))
    }

    /// The channel's position and, when history still reaches back, everything after `offset` in
    /// `epoch` (at most `limit`). A channel never published to has no epoch: it gets `newEpoch`
    /// now, so positions handed out before the first publication stay valid.
    public func read(
        channel: String, after offset: UInt64?, epoch: String?, newEpoch: String, historyAge: Duration? = nil, limit: Int = Int(Int32.max)
    ) async throws(RedisError) -> Replay {
        var replay = try await readScript(channel: channel, after: offset.map { ($0, epoch ?? "") }, count: limit, newEpoch: newEpoch, historyAge: historyAge)
        guard let offset else { return replay }
        let missing = replay.offset >= offset ? replay.offset - offset : 0
        replay.complete = epoch == replay.epoch && offset <= replay.offset
            && replay.entries.count == Int(missing) && (missing == 0 || replay.entries.first?.offset == offset + 1)
        if !replay.complete { replay.entries = [] }
        return replay
    }

    /// The channel's position and its newest `count` entries still in history, oldest first.
    public func newest(channel: String, count: Int, newEpoch: String, historyAge: Duration? = nil) async throws(RedisError) -> Replay {
        try await readScript(channel: channel, after: nil, count: count, newEpoch: newEpoch, historyAge: historyAge)
    }

    /// The newest `count` entries still in history, oldest first.
    public func newestEntries(channel: String, count: Int) async throws(RedisError) -> [Entry] {
        try await newest(channel: channel, count: count, newEpoch: "").entries
    }

    private func readScript(
        channel: String, after: (offset: UInt64, epoch: String)?, count: Int, newEpoch: String, historyAge: Duration?
    ) async throws(RedisError) -> Replay {
        let arguments = [
            Array(newEpoch.utf8), Array("\(Self.milliseconds(historyAge))".utf8), Array((after.map { "\($0.offset)" } ?? "").utf8),
            Array((after?.epoch ?? "").utf8), Array("\(max(0, count))".utf8), Array("\(Self.unpublishedChannelSeconds)".utf8),
        ]
        let reply = try await Self.readScript.evaluate(on: sender, keys: [Self.metaKey(channel), Self.logKey(channel)], arguments: arguments)
        guard case .array(let parts) = reply, parts.count >= 2, parts.count % 2 == 0, let epoch = parts[0].string, case .integer(let newest) = parts[1]
        else { throw .protocolError("unexpected reply to the read script: \(reply)") }
        var entries: [Entry] = []
        entries.reserveCapacity(parts.count / 2 - 1)
        for index in stride(from: 2, to: parts.count, by: 2) {
            guard let offset = parts[index].string.flatMap({ UInt64($0) }), case .bulkString(let data) = parts[index + 1] else {
                throw .protocolError("unexpected history entry in \(channel): \(parts[index]) \(parts[index + 1])")
            }
            entries.append(Entry(offset: offset, data: data))
        }
        return Replay(epoch: epoch, offset: UInt64(max(0, newest)), entries: entries, complete: true)
    }

    private static func milliseconds(_ duration: Duration?) -> Int64 {
        guard let duration else { return 0 }
        return max(0, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
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
