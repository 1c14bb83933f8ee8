import Accounts
import Foundation
import Logging
import Store

/// Account tasks run from the command line (`nebula user create`), against the same store the
/// server uses.
public enum UserAdministration {
    public enum Failure: Error, CustomStringConvertible {
        case usernameTaken(String)
        case invalidUsername(String)
        case invalidRole(String)

        public var description: String {
            switch self {
            case .usernameTaken(let name): "a user named '\(name)' already exists"
            case .invalidUsername(let name): "'\(name)' is not a valid username: 1-64 characters, letters, digits, . _ - @"
            case .invalidRole(let role): "'\(role)' is not a role: admin, operator or viewer"
            }
        }
    }

    public static func createUser(
        _ configuration: ServerConfiguration, username: String, password: String, role: String, logger: Logger
    ) async throws {
        guard let role = Role(rawValue: role) else { throw Failure.invalidRole(role) }
        guard UserDirectory.isValidUsername(username) else { throw Failure.invalidUsername(username) }
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let database = try await StoreBootstrap.open(configuration, logger: logger)
        defer { Task { await database.close() } }
        do {
            try await UserDirectory(database: database).create(username: username, password: password, role: role)
        } catch UserDirectory.Failure.usernameTaken(let name) {
            throw Failure.usernameTaken(name)
        }
        try await AuditLogRepository(database).append(
            AuditEntry(actor: "cli", action: "user.create", target: username, outcome: "ok", details: "role \(role.rawValue)")
        )
    }
}
