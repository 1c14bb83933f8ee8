/// A user account row. Roles decide what the account may do (issue 3): admin, operator, viewer.
public struct UserRecord: Sendable, Equatable {
    public var id: Int64
    public var username: String
    public var passwordHash: String
    public var role: String
    public var totpSecret: [UInt8]?
    public var createdAt: Int64
    public var disabled: Bool
    /// The newest TOTP time step accepted for this user: codes of that step or older are replays.
    public var totpLastStep: Int64?
}

/// All SQL about users, in one place.
public struct UserRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    /// Inserts a user; a taken username is a `constraintViolation`.
    @discardableResult
    public func create(username: String, passwordHash: String, role: String, at time: Int64 = Clock.nowMilliseconds()) async throws(StoreError) -> UserRecord {
        try await database.execute("""
            INSERT INTO users (username, password_hash, role, created_at)
            VALUES (\(bind: username), \(bind: passwordHash), \(bind: role), \(bind: time))
            """)
        guard let user = try await find(username: username) else {
            throw .statementFailed(statement: "INSERT INTO users", reason: "the new user could not be read back")
        }
        return user
    }

    public func find(username: String) async throws(StoreError) -> UserRecord? {
        try await database.first("SELECT * FROM users WHERE username = \(bind: username)").map(Self.record)
    }

    public func find(id: Int64) async throws(StoreError) -> UserRecord? {
        try await database.first("SELECT * FROM users WHERE id = \(bind: id)").map(Self.record)
    }

    public func all() async throws(StoreError) -> [UserRecord] {
        try await database.query("SELECT * FROM users ORDER BY username").map(Self.record)
    }

    public func count() async throws(StoreError) -> Int {
        Int(try await database.first("SELECT COUNT(*) AS n FROM users")?.int("n") ?? 0)
    }

    public func setPasswordHash(_ hash: String, for id: Int64) async throws(StoreError) {
        try await database.execute("UPDATE users SET password_hash = \(bind: hash) WHERE id = \(bind: id)")
    }

    public func setRole(_ role: String, for id: Int64) async throws(StoreError) {
        try await database.execute("UPDATE users SET role = \(bind: role) WHERE id = \(bind: id)")
    }

    /// Stores (or clears) the sealed TOTP secret and forgets the replay guard of the previous one.
    public func setTOTPSecret(_ secret: [UInt8]?, for id: Int64) async throws(StoreError) {
        try await database.execute("UPDATE users SET totp_secret = \(bind: secret), totp_last_step = NULL WHERE id = \(bind: id)")
    }

    /// Records `step` as used, atomically: false when that step (or a newer one) was already used,
    /// so two requests racing with the same code cannot both succeed.
    public func claimTOTPStep(_ step: Int64, for id: Int64) async throws(StoreError) -> Bool {
        let rows = try await database.query("""
            UPDATE users SET totp_last_step = \(bind: step)
            WHERE id = \(bind: id) AND (totp_last_step IS NULL OR totp_last_step < \(bind: step))
            RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Deletes the user (their sessions and recovery codes go with them); false when absent.
    public func delete(id: Int64) async throws(StoreError) -> Bool {
        !(try await database.query("DELETE FROM users WHERE id = \(bind: id) RETURNING id")).isEmpty
    }

    /// Admins who can still log in: the last one must not be demoted, disabled or deleted.
    public func enabledAdminCount() async throws(StoreError) -> Int {
        Int(try await database.first("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = \(bind: false)")?.int("n") ?? 0)
    }

    public func setDisabled(_ disabled: Bool, for id: Int64) async throws(StoreError) {
        try await database.execute("UPDATE users SET disabled = \(bind: disabled) WHERE id = \(bind: id)")
    }

    static func record(_ row: SQLRow) throws(StoreError) -> UserRecord {
        UserRecord(
            id: try row.int("id"),
            username: try row.string("username"),
            passwordHash: try row.string("password_hash"),
            role: try row.string("role"),
            totpSecret: row["totp_secret"].bytes,
            createdAt: try row.int("created_at"),
            disabled: try row.bool("disabled"),
            totpLastStep: row.optionalInt("totp_last_step")
        )
    }
}
