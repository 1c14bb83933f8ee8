import Foundation
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL, for replicas that share state: a connection pool (`PostgresClient`) that runs as a
/// service for as long as the database is open.
public final class PostgresDatabase: Database {
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    /// Connects with a `postgres://user:password@host:port/database` URL and checks the server answers.
    public static func connect(url: String, logger: Logger = Logger(label: "nebula.store.postgres")) async throws(StoreError) -> PostgresDatabase {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else { throw .invalidURL(redacted(url)) }
        let database = components.path.split(separator: "/").first.map(String.init)
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: database,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        let postgres = PostgresDatabase(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        do {
            // The pool retries connecting for ever; a server that is not there must fail start-up.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await postgres.client.query("SELECT 1", logger: logger) }
                group.addTask {
                    try await Task.sleep(for: .seconds(5))
                    throw StoreError.unavailable(
                        backend: "PostgreSQL at \(host):\(components.port ?? 5432)",
                        reason: "no connection within 5 s: is it running, and are host, port and credentials right?"
                    )
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await postgres.close()
            if let error = error as? StoreError { throw error }
            throw .unavailable(backend: "PostgreSQL at \(host):\(components.port ?? 5432)", reason: describe(error))
        }
        return postgres
    }

    @discardableResult
    public func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
        do {
            return try await Self.run(statement, on: client, logger: logger)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .statementFailed(statement: statement.description, reason: Self.describe(error))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(Transaction(connection: connection, logger: logger))
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func close() async {
        runTask.cancel()
        _ = await runTask.value
    }

    fileprivate static func run(_ statement: SQLStatement, on runner: some PostgresQueryRunner, logger: Logger) async throws(StoreError) -> [SQLRow] {
        var bindings = PostgresBindings()
        for value in statement.binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let v): bindings.append(v)
            case .real(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        let query = PostgresQuery(unsafeSQL: statement.render { "$\($0)" }, binds: bindings)
        do {
            var rows: [SQLRow] = []
            for try await row in try await runner.runQuery(query, logger: logger) {
                var columns: [String: SQLValue] = [:]
                for cell in row { columns[cell.columnName] = try value(of: cell) }
                rows.append(SQLRow(columns: columns))
            }
            return rows
        } catch let error as PSQLError {
            let reason = describe(error)
            if error.serverInfo?[.sqlState]?.hasPrefix("23") == true {
                throw .constraintViolation(statement: statement.description, reason: reason)
            }
            throw .statementFailed(statement: statement.description, reason: reason)
        } catch let error as StoreError {
            throw error
        } catch {
            throw .statementFailed(statement: statement.description, reason: describe(error))
        }
    }

    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// The server's own message, never the query's bound values.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        return "\(error)"
    }

    private static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<unparsable>" }
        if components.password != nil { components.password = "***" }
        return components.string ?? "<unparsable>"
    }

    private struct Transaction: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        var dialect: SQLDialect { .postgres }

        @discardableResult
        func query(_ statement: SQLStatement) async throws(StoreError) -> [SQLRow] {
            try await PostgresDatabase.run(statement, on: connection, logger: logger)
        }
    }
}

/// Lets one query routine serve the pool and a transaction's connection.
protocol PostgresQueryRunner {
    func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence
}

extension PostgresClient: PostgresQueryRunner {
    func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }
}

extension PostgresConnection: PostgresQueryRunner {
    func runQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger)
    }
}

