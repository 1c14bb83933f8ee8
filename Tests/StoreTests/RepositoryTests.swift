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

        // The TOTP replay guard: each step once, never an older one, reset with a new secret.
        #expect(try await users.claimTOTPStep(100, for: ann.id))
        #expect(try await !users.claimTOTPStep(100, for: ann.id))
        #expect(try await !users.claimTOTPStep(99, for: ann.id))
        #expect(try await users.claimTOTPStep(101, for: ann.id))
        try await users.setTOTPSecret([4], for: ann.id)
        #expect(try await users.claimTOTPStep(50, for: ann.id))

        #expect(try await users.enabledAdminCount() == 0)  // ann is a disabled operator now
        try await users.setRole("admin", for: odd.id)
        #expect(try await users.enabledAdminCount() == 1)
        #expect(try await users.delete(id: odd.id))
        #expect(try await !users.delete(id: odd.id))
        #expect(try await users.count() == 1)
    }

    @Test("recovery codes: replaced as a set, each used once", arguments: Backend.allCases)
    func recoveryCodes(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let ann = try await UserRepository(database).create(username: "ann", passwordHash: "h", role: "admin")
        try await database.transaction { tx in try await RecoveryCodeRepository(tx).replace(userID: ann.id, codeHashes: ["a", "b", Self.hostile]) }
        let codes = RecoveryCodeRepository(database)
        #expect(try await codes.remaining(userID: ann.id) == 3)
        #expect(try await codes.use(userID: ann.id, codeHash: Self.hostile))
        #expect(try await !codes.use(userID: ann.id, codeHash: Self.hostile))
        #expect(try await !codes.use(userID: ann.id, codeHash: "' OR '1'='1"))
        #expect(try await codes.remaining(userID: ann.id) == 2)
        try await database.transaction { tx in try await RecoveryCodeRepository(tx).replace(userID: ann.id, codeHashes: ["c"]) }
        #expect(try await !codes.use(userID: ann.id, codeHash: "a"))
        #expect(try await codes.use(userID: ann.id, codeHash: "c"))
        // Deleting the user takes the codes along.
        try await database.transaction { tx in try await RecoveryCodeRepository(tx).replace(userID: ann.id, codeHashes: ["d"]) }
        _ = try await UserRepository(database).delete(id: ann.id)
        #expect(try await codes.remaining(userID: ann.id) == 0)
    }

    @Test("secrets: upsert, find, list, delete; names are data", arguments: Backend.allCases)
    func secrets(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let secrets = SecretRepository(database)
        try await secrets.put(name: "b", sealed: [1, 2], at: 1)
        try await secrets.put(name: Self.hostile, sealed: [3], at: 2)
        try await secrets.put(name: "b", sealed: [9], at: 3)
        #expect(try await secrets.find(name: "b") == SealedSecretRecord(name: "b", sealed: [9], updatedAt: 3))
        #expect(try await secrets.all().map(\.name) == [Self.hostile, "b"].sorted())
        #expect(try await secrets.delete(name: Self.hostile))
        #expect(try await !secrets.delete(name: Self.hostile))
        #expect(try await secrets.find(name: "' OR '1'='1") == nil)
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

        // Prefixes compare leading text; LIKE wildcards in a filter mean themselves.
        try await log.append(AuditEntry(at: 50, actor: "ann", action: "key.revoke", outcome: "denied, locked out"))
        #expect(try await log.entries(.init(action: "key.")).map(\.action) == ["key.revoke", "key.create"])
        #expect(try await log.entries(.init(action: "key")).isEmpty)
        #expect(try await log.entries(.init(action: "%.")).isEmpty)
        #expect(try await log.entries(.init(outcome: "denied")).map(\.at) == [50, 40, 20])
        #expect(try await log.entries(.init(outcome: "_enied")).isEmpty)
        let all = try await log.entries()
        #expect(try await log.entries(.init(beforeID: all[1].id)).map(\.id) == all.dropFirst(2).map(\.id))
        let stored = try await log.append(AuditEntry(at: 60, actor: "ann", action: "x", outcome: "ok"))
        #expect(stored.id > all[0].id)
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
        try await sessions.create(session("x", seen: 1_000, expires: 1_100))

        // What the connection watcher asks: which of these are alive, with which role.
        #expect(try await sessions.alive(idHashes: ["a", "d", "x", "gone", "' OR '1'='1"], now: 1_050, idle: 500) == ["a": "admin", "d": "admin", "x": "admin"])
        #expect(try await sessions.alive(idHashes: ["a", "d", "x"], now: 1_450, idle: 500) == ["d": "admin"])  // x expired, a idle since 900
        #expect(try await sessions.alive(idHashes: [], now: 0, idle: 1) == [:])
        try await UserRepository(database).setRole("viewer", for: ann.id)
        #expect(try await sessions.alive(idHashes: ["d"], now: 1_050, idle: 500) == ["d": "viewer"])
        try await UserRepository(database).setDisabled(true, for: ann.id)
        #expect(try await sessions.alive(idHashes: ["d"], now: 1_050, idle: 500) == [:])
        try await sessions.deleteAll(userID: ann.id, except: "d")
        #expect(try await sessions.find(idHash: "a") == nil)
        #expect(try await sessions.find(idHash: "d") != nil)
        try await sessions.create(session("a", seen: 900, expires: 10_000))
        #expect(try await sessions.deleteAll(userID: ann.id) == 2)
        #expect(try await sessions.find(idHash: "a") == nil)
        // Deleting a user ends their sessions (foreign key cascade).
        try await sessions.create(session("e", seen: 1_000, expires: 10_000))
        try await database.execute("DELETE FROM users WHERE id = \(bind: ann.id)")
        #expect(try await sessions.find(idHash: "e") == nil)
    }
}

@Suite("Alerts")
struct AlertRepositoryTests {
    @Test("insert firing, resolve, list firing and recent", arguments: Backend.allCases)
    func alerts(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let alerts = AlertRepository(database)
        let disk = try await alerts.insert(AlertRecord(
            key: "filesystem_full:/srv", rule: "filesystem_full", severity: "warning", subject: "/srv", state: "firing",
            summary: "/srv is 91.5 % full", value: 91.5, since: 10, firedAt: 70, resolvedAt: nil
        ))
        let sick = try await alerts.insert(AlertRecord(
            key: "container_unhealthy:o'brien", rule: "container_unhealthy", severity: "critical", subject: "o'brien", state: "firing",
            summary: "unhealthy", value: nil, since: 20, firedAt: 80, resolvedAt: nil
        ))
        #expect(disk.id > 0 && sick.id > disk.id)
        #expect(try await alerts.firing().map(\.key) == ["filesystem_full:/srv", "container_unhealthy:o'brien"])
        #expect(try await alerts.firing().first?.value == 91.5)
        try await alerts.resolve(id: disk.id, at: 200, summary: "/srv is 50 % full", value: 50)
        #expect(try await alerts.firing().map(\.id) == [sick.id])
        let recent = try await alerts.recent(limit: 10)
        #expect(recent.map(\.id) == [sick.id, disk.id])
        #expect(recent[1].state == "resolved" && recent[1].resolvedAt == 200 && recent[1].value == 50 && recent[0].value == nil)
    }
}

@Suite("Metric history")
struct MetricHistoryTests {
    @Test("raw samples and 5-minute/hourly rollups keep min, avg and max; pruning keeps each tier's age", arguments: Backend.allCases)
    func history(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let history = MetricHistoryRepository(database)
        let hour: Int64 = 3_600_000
        let start = 1_000 * hour  // on an hour boundary
        for (i, value) in [10.0, 30.0, 20.0, 80.0].enumerated() {
            try await history.record(
                [MetricSample(kind: "container", subject: "plex", metric: "cpu_percent", value: value),
                 MetricSample(kind: "container", subject: "o'brien", metric: "cpu_percent", value: 1)],
                at: start + Int64(i) * 120_000  // every 2 minutes: buckets 0-5 min and 5-10 min
            )
        }
        let raw = try await history.points(kind: "container", subject: "plex", metric: "cpu_percent", tier: .raw, from: start, to: start + hour)
        #expect(raw.map(\.avg) == [10, 30, 20, 80])
        let five = try await history.points(kind: "container", subject: "plex", metric: "cpu_percent", tier: .fiveMinutes, from: start, to: start + hour)
        #expect(five.map(\.bucket) == [start, start + 300_000])
        #expect(five[0].min == 10 && five[0].max == 30 && five[0].avg == 20 && five[0].samples == 3)
        #expect(five[1].min == 80 && five[1].samples == 1)
        let hourly = try await history.points(kind: "container", subject: "plex", metric: "cpu_percent", tier: .hourly, from: start, to: start + hour)
        #expect(hourly.count == 1 && hourly[0].min == 10 && hourly[0].max == 80 && hourly[0].avg == 35 && hourly[0].samples == 4)
        #expect(try await history.series().count == 2)

        // Three days later the raw tier is gone, the rollups stay.
        let removed = try await history.prune(now: start + 72 * hour)
        #expect(removed == 8)
        #expect(try await history.points(kind: "container", subject: "plex", metric: "cpu_percent", tier: .raw, from: 0, to: .max).isEmpty)
        #expect(try await history.points(kind: "container", subject: "plex", metric: "cpu_percent", tier: .hourly, from: 0, to: .max).count == 1)
        _ = try await history.prune(now: start + 400 * 24 * hour)
        #expect(try await history.count() == 0)
    }
}
