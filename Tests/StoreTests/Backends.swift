import Foundation
import Store

/// The backends every store test runs against: the same suite, SQLite and real PostgreSQL.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty database of this kind.
    func open() async throws -> any Database {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-store-\(UUID().uuidString).sqlite").path
            return try await SQLiteDatabase.open(path: path)
        case .postgres:
            return try await PostgresDatabase.connect(url: try PostgresTestServer.makeDatabase())
        }
    }
}

import Testing
