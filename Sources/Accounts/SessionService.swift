import Store

/// Password (and TOTP) login, server-side sessions and logout. The cookie carries a random token;
/// the store keeps its SHA-256, a CSRF token, and idle and absolute expiry.
public struct SessionService: Sendable {
    public struct Policy: Sendable {
        public var idle: Int64
        public var absolute: Int64

        /// A working day idle, a week at most.
        public init(idleMilliseconds: Int64 = 8 * 3_600_000, absoluteMilliseconds: Int64 = 7 * 24 * 3_600_000) {
            self.idle = idleMilliseconds
            self.absolute = absoluteMilliseconds
        }
    }

    public enum LoginResult: Sendable, Equatable {
        case success(token: String, csrfToken: String, user: UserRecord)
        /// The password was right; a TOTP code is needed too.
        case totpRequired
        /// Wrong username, password or code — deliberately not saying which.
        case refused
        case lockedOut(retryAfterMilliseconds: Int64)
    }

    public struct Authenticated: Sendable, Equatable {
        public let user: UserRecord
        public let session: SessionRecord
        public var role: Role { Role(rawValue: user.role) ?? .viewer }
    }

    let users: UserRepository
    let sessions: SessionRepository
    let audit: AuditLogRepository
    let hasher: PasswordHasher
    let throttle: LoginThrottle
    let policy: Policy
    /// Compared against when the username is unknown, so both paths cost the same.
    let decoyHash: String

    public init(database: any Database, hasher: PasswordHasher = PasswordHasher(), throttle: LoginThrottle = LoginThrottle(), policy: Policy = Policy()) {
        self.users = UserRepository(database)
        self.sessions = SessionRepository(database)
        self.audit = AuditLogRepository(database)
        self.hasher = hasher
        self.throttle = throttle
        self.policy = policy
        self.decoyHash = (try? hasher.hash("decoy password that matches nothing")) ?? ""
    }

    public func login(username: String, password: String, totpCode: String?, clientAddress: String?, now: Int64 = Clock.nowMilliseconds()) async throws -> LoginResult {
        let keys = ["user:\(username)", "ip:\(clientAddress ?? "unknown")"]
        if let wait = keys.compactMap({ throttle.retryAfter($0, now: now) }).max() {
            try await record(username, clientAddress, "locked", now: now)
            return .lockedOut(retryAfterMilliseconds: wait)
        }
        let user = try await users.find(username: username)
        let passwordMatches = try hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        guard let user, passwordMatches, !user.disabled else {
            return try await failed(keys, username, clientAddress, now: now)
        }
        if let secret = user.totpSecret {
            guard let code = totpCode, !code.isEmpty else { return .totpRequired }
            guard TOTP(secret: secret).verify(code, at: now / 1000) else {
                return try await failed(keys, username, clientAddress, now: now)
            }
        }
        keys.forEach(throttle.succeed)
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        try await sessions.create(SessionRecord(
            idHash: Self.hash(token), userID: user.id, csrfToken: csrf, createdAt: now, lastSeenAt: now,
            expiresAt: now + policy.absolute, clientAddress: clientAddress
        ))
        try await record(username, clientAddress, "ok", now: now)
        return .success(token: token, csrfToken: csrf, user: user)
    }

    /// The user behind a session token, if the session is alive; refreshes its idle clock.
    public func authenticate(token: String, now: Int64 = Clock.nowMilliseconds()) async throws -> Authenticated? {
        guard !token.isEmpty, let session = try await sessions.find(idHash: Self.hash(token)) else { return nil }
        guard session.expiresAt > now, now - session.lastSeenAt < policy.idle else {
            try await sessions.delete(idHash: session.idHash)
            return nil
        }
        guard let user = try await users.find(id: session.userID), !user.disabled else { return nil }
        if now - session.lastSeenAt > 60_000 { try await sessions.touch(idHash: session.idHash, at: now) }
        return Authenticated(user: user, session: session)
    }

    public func logout(token: String) async throws {
        try await sessions.delete(idHash: Self.hash(token))
    }

    @discardableResult
    public func logoutEverywhere(userID: Int64) async throws -> Int {
        try await sessions.deleteAll(userID: userID)
    }

    private func failed(_ keys: [String], _ username: String, _ clientAddress: String?, now: Int64) async throws -> LoginResult {
        let lockouts = keys.compactMap { throttle.fail($0, now: now) }
        try await record(username, clientAddress, lockouts.isEmpty ? "denied" : "denied, locked out", now: now)
        return .refused
    }

    private func record(_ username: String, _ clientAddress: String?, _ outcome: String, now: Int64) async throws {
        try await audit.append(AuditEntry(at: now, actor: username, action: "login", clientAddress: clientAddress, outcome: outcome))
    }

    static func hash(_ token: String) -> String {
        SecretToken.digestHex(token)
    }

    static func randomToken() -> String {
        SecretToken.generate()
    }
}
