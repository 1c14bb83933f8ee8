/// All SQL about TOTP recovery codes, in one place. Only digests are stored; each code works once.
public struct RecoveryCodeRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    /// Replaces the user's codes with a fresh set. Run it in a transaction, so the old set stops
    /// working exactly when the new one starts.
    public func replace(userID: Int64, codeHashes: [String]) async throws(StoreError) {
        try await database.execute("DELETE FROM recovery_codes WHERE user_id = \(bind: userID)")
        for hash in codeHashes {
            try await database.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES (\(bind: userID), \(bind: hash))")
        }
    }

    /// Marks the code used, atomically; false when it is unknown or already used.
    public func use(userID: Int64, codeHash: String, at time: Int64 = Clock.nowMilliseconds()) async throws(StoreError) -> Bool {
        let rows = try await database.query("""
            UPDATE recovery_codes SET used_at = \(bind: time)
            WHERE user_id = \(bind: userID) AND code_hash = \(bind: codeHash) AND used_at IS NULL
            RETURNING user_id
            """)
        return !rows.isEmpty
    }

    public func remaining(userID: Int64) async throws(StoreError) -> Int {
        Int(try await database.first("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = \(bind: userID) AND used_at IS NULL")?.int("n") ?? 0)
    }

    public func deleteAll(userID: Int64) async throws(StoreError) {
        try await database.execute("DELETE FROM recovery_codes WHERE user_id = \(bind: userID)")
    }
}
