import Logging

/// Brings a database to the newest schema at start-up: every pending migration in one
/// transaction, so a failure leaves the database exactly as it was, and a second run finds
/// nothing to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration] = Schema.migrations, logger: Logger = Logger(label: "nebula.store.migrator")) {
        precondition(migrations.map(\.version) == migrations.map(\.version).sorted(), "migrations must be in version order")
        precondition(Set(migrations.map(\.version)).count == migrations.count, "migration versions must be unique")
        self.migrations = migrations
        self.logger = logger
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Key of the PostgreSQL advisory lock that serializes migrations across replicas.
    static let lockKey: Int64 = 0x6e65_6275_6c61  // "nebula"

    /// Applies what is pending; returns the versions applied now. Replicas starting together on
    /// one PostgreSQL database take turns: the first migrates under an advisory lock, the others
    /// wait for it, then find nothing to do.
    @discardableResult
    public func migrate(_ database: any Database) async throws(StoreError) -> [Int] {
        let types = SchemaTypes(dialect: database.dialect)
        let migrations = self.migrations
        let latestVersion = self.latestVersion
        let logger = self.logger
        do {
            return try await database.transaction { executor in
                if executor.dialect == .postgres {
                    try await executor.query("SELECT pg_advisory_xact_lock(\(bind: Self.lockKey))")
                }
                try await executor.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version BIGINT PRIMARY KEY,
                        name TEXT NOT NULL,
                        applied_at BIGINT NOT NULL
                    )
                    """)
                let applied = Set(try await executor.query("SELECT version FROM schema_migrations").compactMap { $0["version"].int64 }.map(Int.init))
                if let newest = applied.max(), newest > latestVersion {
                    throw StoreError.schemaTooNew(databaseVersion: newest, knownVersion: latestVersion)
                }
                let pending = migrations.filter { !applied.contains($0.version) }
                for migration in pending {
                    do {
                        for statement in migration.statements(types) {
                            try await executor.execute(statement)
                        }
                        try await executor.execute("""
                            INSERT INTO schema_migrations (version, name, applied_at)
                            VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Clock.nowMilliseconds()))
                            """)
                    } catch {
                        throw StoreError.migrationFailed(version: migration.version, name: migration.name, reason: "\(error)")
                    }
                    logger.info("migration applied", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                }
                return pending.map(\.version)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .migrationFailed(version: 0, name: "schema_migrations", reason: "\(error)")
        }
    }
}

/// Wall-clock milliseconds, the store's timestamp unit.
public enum Clock {
    public static func nowMilliseconds() -> Int64 {
        Int64((Date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000)
    }
}

import Foundation
