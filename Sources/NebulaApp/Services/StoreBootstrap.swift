import Foundation
import Logging
import Store

/// Opens the configured database and brings its schema up to date before anything else starts:
/// a server that cannot migrate stops with the store's message and changes nothing.
enum StoreBootstrap {
    static let sqliteFileName = "nebula.sqlite"

    static func open(_ configuration: ServerConfiguration, logger: Logger) async throws -> any Database {
        let database: any Database
        if let url = configuration.databaseURL {
            // The pool logs every failed connection attempt at info; keep those out of normal logs.
            var poolLogger = logger
            poolLogger.logLevel = max(logger.logLevel, .warning)
            database = try await PostgresDatabase.connect(url: url, logger: poolLogger)
        } else {
            let path = configuration.dataDirectory.appendingPathComponent(sqliteFileName).path
            database = try await SQLiteDatabase.open(path: path, logger: logger)
            // Password hashes and sealed secrets live here: owner only, like the key files.
            for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        }
        do {
            let applied = try await Migrator(logger: logger).migrate(database)
            logger.info("store ready", metadata: ["kind": "\(database.dialect.rawValue)", "migrations_applied": "\(applied)"])
        } catch {
            await database.close()
            throw error
        }
        return database
    }
}
