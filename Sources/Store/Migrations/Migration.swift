/// One step of the schema's history. Versions only grow; a released migration is never edited,
/// a change is a new migration.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// The statements for a dialect. Most are the same text; the few type names that differ are
    /// chosen through `SchemaTypes`.
    public let statements: @Sendable (SchemaTypes) -> [SQLStatement]

    public init(version: Int, name: String, statements: @escaping @Sendable (SchemaTypes) -> [SQLStatement]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Column types that are spelled differently per dialect.
public struct SchemaTypes: Sendable {
    public let dialect: SQLDialect

    /// An auto-assigned 64-bit primary key.
    public var serialKey: String { dialect == .postgres ? "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT" }
    public var bytes: String { dialect == .postgres ? "BYTEA" : "BLOB" }
    public var real: String { dialect == .postgres ? "DOUBLE PRECISION" : "REAL" }
    /// Unix time in milliseconds; integers keep both backends and their comparisons identical.
    public var timestamp: String { "BIGINT" }
}
