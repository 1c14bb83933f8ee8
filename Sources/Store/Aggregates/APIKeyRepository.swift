/// A stored API or overlay key. Only the key's SHA-256 is kept; the key is shown once at creation.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var keyHash: String
    /// `api` for scripts, `overlay` for OBS URLs (read-only, `overlay.*` only).
    public var kind: String
    /// Space-separated scopes, e.g. `read publish:app`.
    public var scopes: String
    public var createdBy: Int64?
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var revokedAt: Int64?

    /// Usable at `time`: not revoked and not expired.
    public func isActive(at time: Int64) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > time } ?? true)
    }
}

/// All SQL about API keys, in one place.
public struct APIKeyRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    @discardableResult
    public func create(
        name: String, keyHash: String, kind: String, scopes: String, createdBy: Int64?,
        expiresAt: Int64?, at time: Int64 = Clock.nowMilliseconds()
    ) async throws(StoreError) -> APIKeyRecord {
        try await database.execute("""
            INSERT INTO api_keys (name, key_hash, kind, scopes, created_by, created_at, expires_at)
            VALUES (\(bind: name), \(bind: keyHash), \(bind: kind), \(bind: scopes), \(bind: createdBy), \(bind: time), \(bind: expiresAt))
            """)
        guard let record = try await find(keyHash: keyHash) else {
            throw .statementFailed(statement: "INSERT INTO api_keys", reason: "the new key could not be read back")
        }
        return record
    }

    public func find(keyHash: String) async throws(StoreError) -> APIKeyRecord? {
        try await database.first("SELECT * FROM api_keys WHERE key_hash = \(bind: keyHash)").map(Self.record)
    }

    public func find(id: Int64) async throws(StoreError) -> APIKeyRecord? {
        try await database.first("SELECT * FROM api_keys WHERE id = \(bind: id)").map(Self.record)
    }

    /// Every key, newest first, revoked ones included (the dashboard shows them struck through).
    public func all() async throws(StoreError) -> [APIKeyRecord] {
        try await database.query("SELECT * FROM api_keys ORDER BY created_at DESC, id DESC").map(Self.record)
    }

    /// Marks a key revoked; false when there was no such active key.
    @discardableResult
    public func revoke(id: Int64, at time: Int64 = Clock.nowMilliseconds()) async throws(StoreError) -> Bool {
        guard let key = try await find(id: id), key.revokedAt == nil else { return false }
        try await database.execute("UPDATE api_keys SET revoked_at = \(bind: time) WHERE id = \(bind: id) AND revoked_at IS NULL")
        return true
    }

    /// Keys that stopped being usable in `[since, now]`: revoked then, or expired then.
    public func deactivated(since: Int64, now: Int64) async throws(StoreError) -> [Int64] {
        try await database.query("""
            SELECT id FROM api_keys
            WHERE (revoked_at IS NOT NULL AND revoked_at >= \(bind: since) AND revoked_at <= \(bind: now))
               OR (expires_at IS NOT NULL AND expires_at >= \(bind: since) AND expires_at <= \(bind: now))
            """).compactMap { $0["id"].int64 }
    }

    static func record(_ row: SQLRow) throws(StoreError) -> APIKeyRecord {
        APIKeyRecord(
            id: try row.int("id"),
            name: try row.string("name"),
            keyHash: try row.string("key_hash"),
            kind: try row.string("kind"),
            scopes: try row.string("scopes"),
            createdBy: row.optionalInt("created_by"),
            createdAt: try row.int("created_at"),
            expiresAt: row.optionalInt("expires_at"),
            revokedAt: row.optionalInt("revoked_at")
        )
    }
}
