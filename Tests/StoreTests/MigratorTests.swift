import Logging
import Store
import Testing

@Suite("Migrations")
struct MigratorTests {
    @Test("all migrations apply once, in a transaction; a second run finds nothing to do", arguments: Backend.allCases)
    func appliesOnce(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        let migrator = Migrator()
        #expect(try await migrator.migrate(database) == Schema.migrations.map(\.version))
        #expect(try await migrator.migrate(database) == [])
        let rows = try await database.query("SELECT version, name FROM schema_migrations ORDER BY version")
        #expect(rows.compactMap { $0["version"].int64 } == Schema.migrations.map { Int64($0.version) })
        // The tables exist and are empty.
        for table in ["users", "sessions", "api_keys", "audit_log", "secrets"] {
            let count = try await database.first("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)")
            #expect(count?["n"].int64 == 0, "\(table)")
        }
    }

    @Test("a failing migration changes nothing and says which one failed", arguments: Backend.allCases)
    func failureChangesNothing(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        let broken = Schema.migrations + [
            Migration(version: 100, name: "good then bad") { _ in
                ["CREATE TABLE half_done (id INTEGER)", "CREATE TABLE broken (id INTEGER, this is not sql)"]
            },
        ]
        await #expect(throws: StoreError.self) { try await Migrator(migrations: broken).migrate(database) }
        do {
            try await Migrator(migrations: broken).migrate(database)
            Issue.record("expected a failure")
        } catch {
            guard case .migrationFailed(let version, let name, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(version == 100 && name == "good then bad")
        }
        // Not even the earlier, valid migrations of the failed batch were kept.
        await #expect(throws: StoreError.self) { try await database.query("SELECT * FROM half_done") }
        await #expect(throws: StoreError.self) { try await database.query("SELECT * FROM users") }
        // Nor the bookkeeping table: it is created in the same transaction.
        await #expect(throws: StoreError.self) { try await database.query("SELECT version FROM schema_migrations") }
        // The real schema still applies afterwards.
        #expect(try await Migrator().migrate(database) == Schema.migrations.map(\.version))
    }

    @Test("a database from a newer build is refused", arguments: Backend.allCases)
    func newerSchemaRefused(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        try await database.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(bind: 999), \(bind: "future"), \(bind: 0))")
        await #expect(throws: StoreError.schemaTooNew(databaseVersion: 999, knownVersion: Migrator().latestVersion)) {
            try await Migrator().migrate(database)
        }
    }
}

@Suite("SQL execution")
struct SQLExecutionTests {
    @Test("values round-trip, and SQL metacharacters stay data", arguments: Backend.allCases)
    func roundTrip(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let hostile = "x'); DROP TABLE users; -- \" ; \\ % _ \n é 😀 $1 ?"
        try await database.execute("""
            INSERT INTO users (username, password_hash, role, totp_secret, created_at)
            VALUES (\(bind: hostile), \(bind: "hash"), \(bind: "viewer"), \(bind: [UInt8]([0, 1, 255])), \(bind: Int64(1_732_200_000_123)))
            """)
        let row = try #require(try await database.first("SELECT * FROM users WHERE username = \(bind: hostile)"))
        #expect(try row.string("username") == hostile)
        #expect(row["totp_secret"].bytes == [0, 1, 255])
        #expect(try row.int("created_at") == 1_732_200_000_123)
        #expect(try row.int("disabled") == 0)
        #expect(try await database.query("SELECT id FROM users").count == 1)
    }

    @Test("a duplicate is a constraint violation, not a generic failure", arguments: Backend.allCases)
    func constraintViolation(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let insert: SQLStatement = "INSERT INTO users (username, password_hash, role, created_at) VALUES (\(bind: "ann"), \(bind: "h"), \(bind: "admin"), \(bind: 0))"
        try await database.execute(insert)
        do {
            try await database.execute(insert)
            Issue.record("expected a constraint violation")
        } catch {
            guard case .constraintViolation(let statement, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(!statement.contains("ann"), "bound values must not appear in errors: \(statement)")
        }
        let badRole: SQLStatement = "INSERT INTO users (username, password_hash, role, created_at) VALUES (\(bind: "bob"), \(bind: "h"), \(bind: "root"), \(bind: 0))"
        await #expect(throws: StoreError.self) { try await database.execute(badRole) }
    }

    @Test("a transaction commits on return and rolls back on throw", arguments: Backend.allCases)
    func transactions(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await database.transaction { tx in
                try await tx.execute("INSERT INTO audit_log (at, actor, action, outcome) VALUES (\(bind: 1), \(bind: "a"), \(bind: "x"), \(bind: "ok"))")
                throw Abort()
            }
        }
        #expect(try await database.query("SELECT id FROM audit_log").isEmpty)
        let count = try await database.transaction { tx in
            for i in 0..<5 {
                try await tx.execute("INSERT INTO audit_log (at, actor, action, outcome) VALUES (\(bind: i), \(bind: "a"), \(bind: "x"), \(bind: "ok"))")
            }
            return try await tx.query("SELECT id FROM audit_log").count
        }
        #expect(count == 5)
        #expect(try await database.query("SELECT id FROM audit_log").count == 5)
    }

    @Test("concurrent writers do not interleave inside a transaction", arguments: Backend.allCases)
    func concurrentTransactions(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    try await database.transaction { tx in
                        for i in 0..<10 {
                            try await tx.execute("INSERT INTO audit_log (at, actor, action, outcome) VALUES (\(bind: i), \(bind: "w\(writer)"), \(bind: "x"), \(bind: "ok"))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await database.query("SELECT id FROM audit_log").count == 80)
    }

    @Test("an unreachable PostgreSQL is a clear error")
    func unreachable() async {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        await #expect(throws: StoreError.self) { try await PostgresDatabase.connect(url: "postgres://nebula:secret@127.0.0.1:1/nebula", logger: quiet) }
        await #expect(throws: StoreError.invalidURL("mysql://x")) { try await PostgresDatabase.connect(url: "mysql://x") }
    }
}
