/// What went wrong in the store, with enough context to act on without a debugger.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The backend could not be reached or opened.
    case unavailable(backend: String, reason: String)
    /// A statement failed; `statement` has placeholders only, never bound values.
    case statementFailed(statement: String, reason: String)
    /// A unique or foreign key constraint refused the change.
    case constraintViolation(statement: String, reason: String)
    case decoding(column: String, expected: String, found: String)
    /// A migration failed; nothing of the batch was applied.
    case migrationFailed(version: Int, name: String, reason: String)
    /// The database was written by a newer Nebula than this one.
    case schemaTooNew(databaseVersion: Int, knownVersion: Int)
    case invalidURL(String)

    public var description: String {
        switch self {
        case .unavailable(let backend, let reason): "\(backend) is unavailable: \(reason)"
        case .statementFailed(let statement, let reason): "SQL failed: \(reason) — in: \(statement)"
        case .constraintViolation(let statement, let reason): "constraint violated: \(reason) — in: \(statement)"
        case .decoding(let column, let expected, let found): "column '\(column)': expected \(expected), found \(found)"
        case .migrationFailed(let version, let name, let reason):
            "migration \(version) (\(name)) failed, nothing was changed: \(reason)"
        case .schemaTooNew(let databaseVersion, let knownVersion):
            "the database schema is version \(databaseVersion), newer than this build knows (\(knownVersion)); upgrade Nebula"
        case .invalidURL(let url): "not a database URL: \(url) (expected postgres://user:password@host:port/database)"
        }
    }
}
