import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The embedded default: one SQLite file in the data dir, in WAL mode, used through one
/// connection whose statements run on NIO's thread pool (never on an event loop).
public final class SQLiteDatabase: Database {
    public let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let mutex = AsyncMutex()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database file at `path`, or an in-memory one for nil.
    public static func open(path: String?, logger: Logger = Logger(label: "nebula.store.sqlite")) async throws(StoreError) -> SQLiteDatabase {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: path.map { .file(path: $0) } ?? .memory, logger: logger)
        } catch {
            throw .unavailable(backend: "SQLite \(path ?? ":memory:")", reason: "\(error)")
        }
        let database = SQLiteDatabase(connection: connection)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000", "PRAGMA synchronous = NORMAL"] {
            try await database.run(SQLStatement(stringLiteral: pragma))
        }
        return database
    }

    @discardableResult
    public func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
        do {
            return try await mutex.withLock { try await self.run(statement) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .statementFailed(statement: statement.description, reason: "\(error)")
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await mutex.withLock {
            try await run("BEGIN IMMEDIATE")
            do {
                let result = try await body(Transaction(database: self))
                try await run("COMMIT")
                return result
            } catch {
                _ = try? await run("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// Runs a statement without taking the mutex: callers hold it.
    @discardableResult
    fileprivate func run(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
        let text = statement.render { _ in "?" }
        let binds = statement.binds.map(Self.sqliteData)
        do {
            let rows = try await connection.query(text, binds)
            return rows.map { row in
                SQLRow(columns: Dictionary(row.columns.map { ($0.name, Self.value($0.data)) }, uniquingKeysWith: { first, _ in first }))
            }
        } catch let error as SQLiteError {
            // Constraint failures come as the basic code or one of its extended codes.
            if "\(error.reason)".hasPrefix("constraint") {
                throw .constraintViolation(statement: statement.description, reason: error.message)
            }
            throw .statementFailed(statement: statement.description, reason: error.message)
        } catch {
            throw .statementFailed(statement: statement.description, reason: "\(error)")
        }
    }

    private static func sqliteData(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .integer(let v): .integer(Int(v))
        case .real(let v): .float(v)
        case .text(let v): .text(v)
        case .blob(let v): .blob(ByteBuffer(bytes: v))
        }
    }

    private static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: .null
        case .integer(let v): .integer(Int64(v))
        case .float(let v): .real(v)
        case .text(let v): .text(v)
        case .blob(let v): .blob(Array(v.readableBytesView))
        }
    }

    /// The executor handed to a transaction body: the mutex is already held.
    private struct Transaction: SQLExecutor {
        let database: SQLiteDatabase
        var dialect: SQLDialect { .sqlite }

        @discardableResult
        func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
            try await database.run(statement)
        }
    }
}
