import Store
import Testing

@Suite("Users and audit log")
struct RepositoryTests {
    static let hostile = "o'brien\"; DROP TABLE users; --%_\\"

    @Test("users: create, find, update, list; hostile names are data; duplicates refused", arguments: Backend.allCases)
    func users(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let users = UserRepository(database)
        let ann = try await users.create(username: "ann", passwordHash: "h1", role: "admin", at: 5)
        let odd = try await users.create(username: Self.hostile, passwordHash: "h2", role: "viewer")
        #expect(ann.username == "ann" && ann.role == "admin" && ann.createdAt == 5 && !ann.disabled && ann.totpSecret == nil)
        #expect(try await users.find(username: Self.hostile) == odd)
        #expect(try await users.find(id: ann.id) == ann)
        #expect(try await users.find(username: "nobody") == nil)
        #expect(try await users.count() == 2)
        await #expect(throws: StoreError.self) { try await users.create(username: "ann", passwordHash: "x", role: "viewer") }
        await #expect(throws: StoreError.self) { try await users.create(username: "eve", passwordHash: "x", role: "superuser") }

        try await users.setPasswordHash("h3", for: ann.id)
        try await users.setRole("operator", for: ann.id)
        try await users.setTOTPSecret([1, 2, 3], for: ann.id)
        try await users.setDisabled(true, for: ann.id)
        let changed = try #require(try await users.find(id: ann.id))
        #expect(changed.passwordHash == "h3" && changed.role == "operator" && changed.totpSecret == [1, 2, 3] && changed.disabled)
        #expect(try await users.all().map(\.username) == ["ann", Self.hostile])
    }

    @Test("audit log: append and filter, newest first, filters bound", arguments: Backend.allCases)
    func audit(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let log = AuditLogRepository(database)
        try await log.append(AuditEntry(at: 10, actor: "ann", action: "login", clientAddress: "127.0.0.1", outcome: "ok"))
        try await log.append(AuditEntry(at: 20, actor: "bob", action: "login", outcome: "denied", details: "wrong password"))
        try await log.append(AuditEntry(at: 30, actor: "ann", action: "key.create", target: "ci", outcome: "ok"))
        try await log.append(AuditEntry(at: 40, actor: Self.hostile, action: "login", outcome: "denied"))
        #expect(try await log.entries().map(\.at) == [40, 30, 20, 10])
        #expect(try await log.entries(.init(actor: "ann")).map(\.action) == ["key.create", "login"])
        #expect(try await log.entries(.init(action: "login", since: 15, until: 35)).map(\.actor) == ["bob"])
        #expect(try await log.entries(.init(actor: Self.hostile)).map(\.at) == [40])
        #expect(try await log.entries(.init(actor: "' OR '1'='1")).isEmpty)
        #expect(try await log.entries(.init(limit: 2)).count == 2)
        let bob = try #require(try await log.entries(.init(actor: "bob")).first)
        #expect(bob.details == "wrong password" && bob.target == nil && bob.clientAddress == nil && bob.outcome == "denied")
    }
}

@Suite("API keys")
struct APIKeyRepositoryTests {
    @Test("create, find by hash, list newest first, revoke once, expiry", arguments: Backend.allCases)
    func keys(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let keys = APIKeyRepository(database)
        let ci = try await keys.create(name: "ci; DROP TABLE api_keys", keyHash: "h1", kind: "api", scopes: "read publish:app", createdBy: nil, expiresAt: 1_000, at: 10)
        let obs = try await keys.create(name: "obs", keyHash: "h2", kind: "overlay", scopes: "read", createdBy: nil, expiresAt: nil, at: 20)
        #expect(try await keys.find(keyHash: "h1") == ci)
        #expect(try await keys.find(keyHash: "nope") == nil)
        #expect(try await keys.all().map(\.name) == ["obs", "ci; DROP TABLE api_keys"])
        #expect(ci.isActive(at: 999) && !ci.isActive(at: 1_000))
        #expect(obs.isActive(at: Int64.max - 1))
        await #expect(throws: StoreError.self) { try await keys.create(name: "dup", keyHash: "h1", kind: "api", scopes: "read", createdBy: nil, expiresAt: nil) }
        await #expect(throws: StoreError.self) { try await keys.create(name: "bad", keyHash: "h3", kind: "root", scopes: "read", createdBy: nil, expiresAt: nil) }
        #expect(try await keys.revoke(id: obs.id, at: 30))
        #expect(try await !keys.revoke(id: obs.id, at: 40))
        #expect(try await !keys.revoke(id: 999_999))
        let revoked = try #require(try await keys.find(id: obs.id))
        #expect(revoked.revokedAt == 30 && !revoked.isActive(at: 31))
        // What stopped working in a window: the revocation at 30 and the expiry at 1,000.
        #expect(try await keys.deactivated(since: 0, now: 29) == [])
        #expect(try await keys.deactivated(since: 25, now: 35) == [obs.id])
        #expect(try await Set(keys.deactivated(since: 30, now: 1_000)) == [obs.id, ci.id])
        #expect(try await keys.deactivated(since: 1_001, now: 5_000) == [])
    }
}

@Suite("Sessions")
struct SessionRepositoryTests {
    @Test("create, find, touch, delete, logout everywhere, prune", arguments: Backend.allCases)
    func sessions(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let ann = try await UserRepository(database).create(username: "ann", passwordHash: "h", role: "admin")
        let sessions = SessionRepository(database)
        func session(_ id: String, seen: Int64, expires: Int64) -> SessionRecord {
            SessionRecord(idHash: id, userID: ann.id, csrfToken: "csrf-\(id)", createdAt: 0, lastSeenAt: seen, expiresAt: expires, clientAddress: "127.0.0.1")
        }
        try await sessions.create(session("a", seen: 0, expires: 10_000))
        try await sessions.create(session("b", seen: 0, expires: 10_000))
        try await sessions.create(session("c", seen: 0, expires: 100))
        #expect(try await sessions.find(idHash: "a") == session("a", seen: 0, expires: 10_000))
        try await sessions.touch(idHash: "a", at: 900)
        #expect(try await sessions.find(idHash: "a")?.lastSeenAt == 900)
        try await sessions.prune(now: 1_000, idle: 500)  // c expired, b idle since 0
        #expect(try await sessions.find(idHash: "b") == nil)
        #expect(try await sessions.find(idHash: "c") == nil)
        #expect(try await sessions.find(idHash: "a") != nil)
        try await sessions.create(session("d", seen: 1_000, expires: 10_000))
        #expect(try await sessions.deleteAll(userID: ann.id) == 2)
        #expect(try await sessions.find(idHash: "a") == nil)
        // Deleting a user ends their sessions (foreign key cascade).
        try await sessions.create(session("e", seen: 1_000, expires: 10_000))
        try await database.execute("DELETE FROM users WHERE id = \(bind: ann.id)")
        #expect(try await sessions.find(idHash: "e") == nil)
    }
}
