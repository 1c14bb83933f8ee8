/// A browser session. The cookie holds a random token; the store keeps only its hash.
public struct SessionRecord: Sendable, Equatable {
    public var idHash: String
    public var userID: Int64
    public var csrfToken: String
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var expiresAt: Int64
    public var clientAddress: String?

    public init(idHash: String, userID: Int64, csrfToken: String, createdAt: Int64, lastSeenAt: Int64, expiresAt: Int64, clientAddress: String?) {
        self.idHash = idHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.clientAddress = clientAddress
    }
}

/// All SQL about sessions, in one place.
public struct SessionRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    public func create(_ session: SessionRecord) async throws(StoreError) {
        try await database.execute("""
            INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, client_address)
            VALUES (\(bind: session.idHash), \(bind: session.userID), \(bind: session.csrfToken), \(bind: session.createdAt),
                    \(bind: session.lastSeenAt), \(bind: session.expiresAt), \(bind: session.clientAddress))
            """)
    }

    public func find(idHash: String) async throws(StoreError) -> SessionRecord? {
        guard let row = try await database.first("SELECT * FROM sessions WHERE id_hash = \(bind: idHash)") else { return nil }
        return SessionRecord(
            idHash: try row.string("id_hash"), userID: try row.int("user_id"), csrfToken: try row.string("csrf_token"),
            createdAt: try row.int("created_at"), lastSeenAt: try row.int("last_seen_at"), expiresAt: try row.int("expires_at"),
            clientAddress: row.optionalString("client_address")
        )
    }

    public func touch(idHash: String, at time: Int64) async throws(StoreError) {
        try await database.execute("UPDATE sessions SET last_seen_at = \(bind: time) WHERE id_hash = \(bind: idHash)")
    }

    public func delete(idHash: String) async throws(StoreError) {
        try await database.execute("DELETE FROM sessions WHERE id_hash = \(bind: idHash)")
    }

    /// Logout everywhere; returns how many sessions ended.
    @discardableResult
    public func deleteAll(userID: Int64) async throws(StoreError) -> Int {
        let count = try await database.first("SELECT COUNT(*) AS n FROM sessions WHERE user_id = \(bind: userID)")?.int("n") ?? 0
        try await database.execute("DELETE FROM sessions WHERE user_id = \(bind: userID)")
        return Int(count)
    }

    /// Ends every session of the user except `kept` (the one changing its password stays in).
    public func deleteAll(userID: Int64, except kept: String) async throws(StoreError) {
        try await database.execute("DELETE FROM sessions WHERE user_id = \(bind: userID) AND id_hash <> \(bind: kept)")
    }

    /// Of the given sessions, those still alive (not expired, not idle too long, user enabled),
    /// with their user's current role: what the connection watcher compares live sockets against.
    public func alive(idHashes: [String], now: Int64, idle: Int64) async throws(StoreError) -> [String: String] {
        guard !idHashes.isEmpty else { return [:] }
        var sql: SQLStatement = """
            SELECT s.id_hash AS id_hash, u.role AS role FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.expires_at > \(bind: now) AND s.last_seen_at > \(bind: now - idle) AND u.disabled = \(bind: false)
              AND s.id_hash IN (
            """
        for (i, hash) in idHashes.enumerated() {
            if i > 0 { sql = sql + ", " }
            sql = sql + "\(bind: hash)"
        }
        sql = sql + ")"
        var alive: [String: String] = [:]
        for row in try await database.query(sql) {
            alive[try row.string("id_hash")] = try row.string("role")
        }
        return alive
    }

    /// Removes sessions past their absolute expiry or idle for longer than `idle`.
    public func prune(now: Int64, idle: Int64) async throws(StoreError) {
        try await database.execute("DELETE FROM sessions WHERE expires_at <= \(bind: now) OR last_seen_at <= \(bind: now - idle)")
    }
}
