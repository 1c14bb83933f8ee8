/// Which SQL dialect a backend speaks, for the few statements that differ (types in DDL).
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// Runs statements. Implemented by a whole database (each call may use any connection) and by
/// the connection of an open transaction.
public protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    @discardableResult
    func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow]
}

extension SQLExecutor {
    public func execute(_ statement: SQLStatement) async throws(StoreError) {
        _ = try await query(statement)
    }

    public func first(_ statement: SQLStatement) async throws(StoreError) -> SQLRow? {
        try await query(statement).first
    }
}

/// The store's one interface to persistence: SQLite embedded by default, PostgreSQL when replicas
/// share state. Aggregates (users, keys, audit, later telemetry history, jobs …) are written
/// against it, each with its SQL in one place.
public protocol Database: SQLExecutor {
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    func close() async
}
