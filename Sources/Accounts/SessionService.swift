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
    let secondFactor: SecondFactor
    let audit: any AuditSink
    let hasher: PasswordHasher
    let throttle: LoginThrottle
    public let policy: Policy
    /// Compared against when the username is unknown, so both paths cost the same.
    let decoyHash: String

    public init(
        database: any Database, secondFactor: SecondFactor, audit: any AuditSink, hasher: PasswordHasher = PasswordHasher(),
        throttle: LoginThrottle = LoginThrottle(), policy: Policy = Policy()
    ) {
        self.users = UserRepository(database)
        self.sessions = SessionRepository(database)
        self.secondFactor = secondFactor
        self.audit = audit
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
        if user.totpSecret != nil {
            guard let code = totpCode, !code.isEmpty else { return .totpRequired }
            guard try await secondFactor.verify(user: user, code: code, now: now) else {
                return try await failed(keys, username, clientAddress, now: now)
            }
        }
        keys.forEach(throttle.succeed)
        let (token, csrf) = try await start(for: user, clientAddress: clientAddress, now: now)
        try await record(username, clientAddress, "ok", now: now)
        return .success(token: token, csrfToken: csrf, user: user)
    }

    public enum Recheck: Sendable, Equatable {
        case confirmed
        case wrongPassword
        case lockedOut(retryAfterMilliseconds: Int64)
    }

    /// Asks a signed-in user for their password again before something sensitive (changing it,
    /// turning 2FA off). Throttled like logins, per account, so a stolen session cannot be used to
    /// guess the password at leisure.
    public func recheckPassword(_ password: String, of user: UserRecord, now: Int64 = Clock.nowMilliseconds()) throws -> Recheck {
        let key = "user:\(user.username)"
        if let wait = throttle.retryAfter(key, now: now) { return .lockedOut(retryAfterMilliseconds: wait) }
        guard try hasher.verify(password, against: user.passwordHash) else {
            throttle.fail(key, now: now)
            return .wrongPassword
        }
        throttle.succeed(key)
        return .confirmed
    }

    /// A new session for a user who has just proven who they are (login, or creating the first
    /// admin account with the setup token): the cookie token and its CSRF token.
    public func start(for user: UserRecord, clientAddress: String?, now: Int64 = Clock.nowMilliseconds()) async throws -> (token: String, csrfToken: String) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        try await sessions.create(SessionRecord(
            idHash: Self.hash(token), userID: user.id, csrfToken: csrf, createdAt: now, lastSeenAt: now,
            expiresAt: now + policy.absolute, clientAddress: clientAddress
        ))
        return (token, csrf)
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

    /// Of these sessions (by stored hash), the live ones and their user's current role.
    public func liveRoles(sessionHashes: [String], now: Int64 = Clock.nowMilliseconds()) async throws -> [String: Role] {
        try await sessions.alive(idHashes: sessionHashes, now: now, idle: policy.idle).compactMapValues(Role.init(rawValue:))
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

    /// What the store keeps of a session token (and what live connections are tracked by).
    public static func hash(_ token: String) -> String {
        SecretToken.digestHex(token)
    }

    static func randomToken() -> String {
        SecretToken.generate()
    }
}
