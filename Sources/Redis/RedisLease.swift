/// A named lease in Redis held by one replica at a time (`SET NX PX`, renewed by its holder, given
/// up on shutdown). Work that must happen once per cluster — sampling the host, evaluating alerts,
/// writing history, following a container's log — runs where the lease is.
public struct RedisLease: Sendable {
    public let key: String
    public let holder: String
    public let ttl: Duration
    let sender: any RedisCommandSender

    public init(name: String, holder: String, ttl: Duration, sender: any RedisCommandSender) {
        self.key = "nebula:lease:\(name)"
        self.holder = holder
        self.ttl = ttl
        self.sender = sender
    }

    /// KEYS: lease. ARGV: holder, ttl in ms. 1 when the caller holds the lease afterwards.
    static let acquireScript = RedisScript("""
        local current = redis.call('GET', KEYS[1])
        if current == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        if not current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """)

    static let releaseScript = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """)

    /// Takes the lease when nobody holds it, extends it when the caller already does.
    public func acquireOrRenew() async throws(RedisError) -> Bool {
        let milliseconds = ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000
        let reply = try await Self.acquireScript.evaluate(on: sender, keys: [key], arguments: [Array(holder.utf8), Array("\(milliseconds)".utf8)])
        return reply == .integer(1)
    }

    /// Gives the lease up if the caller holds it, so another replica takes over at once.
    public func release() async throws(RedisError) {
        _ = try await Self.releaseScript.evaluate(on: sender, keys: [key], arguments: [Array(holder.utf8)])
    }

    /// Who holds it now, if anyone.
    public func currentHolder() async throws(RedisError) -> String? {
        try await sender.send(RESPCommand("GET", key)).string
    }
}
