import Accounts
import Foundation
import Logging
import Store

/// Account and key tasks run from the command line (`nebula user …`, `nebula key …`), against the
/// same store the server uses; a running server notices the changes (sessions and keys withdrawn
/// close their WebSockets within a second).
public enum UserAdministration {
    public enum Failure: Error, CustomStringConvertible {
        case invalidRole(String)
        case noSuchUser(String)
        case noSuchKey(Int64)
        case invalidScope(String)
        case invalidExpiry(String)

        public var description: String {
            switch self {
            case .invalidRole(let role): "'\(role)' is not a role: admin, operator or viewer"
            case .noSuchUser(let name): "no user named '\(name)'"
            case .noSuchKey(let id): "no active key with id \(id)"
            case .invalidScope(let reason): reason
            case .invalidExpiry(let text): "'\(text)' is not a future RFC 3339 time like 2027-01-31T00:00:00Z"
            }
        }
    }

    /// What `nebula user update` may change.
    public struct UserChange: Sendable {
        public var role: String?
        public var disabled: Bool?
        public var password: String?
        public var removeSecondFactor = false

        public init(role: String? = nil, disabled: Bool? = nil, password: String? = nil, removeSecondFactor: Bool = false) {
            self.role = role
            self.disabled = disabled
            self.password = password
            self.removeSecondFactor = removeSecondFactor
        }
    }

    public static func createUser(
        _ configuration: ServerConfiguration, username: String, password: String, role: String, logger: Logger
    ) async throws {
        guard let role = Role(rawValue: role) else { throw Failure.invalidRole(role) }
        try await withStore(configuration, logger: logger) { database in
            _ = try await UserDirectory(database: database).create(username: username, password: password, role: role)
            try await audit(database, "user.create", target: username, details: "role \(role.rawValue)")
        }
    }

    /// One line per user: id, name, role, 2FA, state.
    public static func listUsers(_ configuration: ServerConfiguration, logger: Logger) async throws -> [String] {
        try await withStore(configuration, logger: logger) { database in
            try await UserDirectory(database: database).all().map { user in
                "\(user.id)\t\(user.username)\t\(user.role)\t2fa:\(user.totpSecret == nil ? "off" : "on")\t\(user.disabled ? "disabled" : "enabled")"
            }
        }
    }

    /// Changes a user by name: the way back in when the only admin lost their password or phone.
    public static func updateUser(_ configuration: ServerConfiguration, username: String, change: UserChange, logger: Logger) async throws {
        let role = try change.role.map { text in
            guard let role = Role(rawValue: text) else { throw Failure.invalidRole(text) }
            return role
        }
        try await withStore(configuration, logger: logger) { database in
            guard let user = try await UserRepository(database).find(username: username) else { throw Failure.noSuchUser(username) }
            let directory = UserDirectory(database: database)
            _ = try await directory.update(
                id: user.id,
                .init(role: role, disabled: change.disabled, password: change.password, removeSecondFactor: change.removeSecondFactor)
            )
            var details: [String] = []
            if let role { details.append("role \(role.rawValue)") }
            if let disabled = change.disabled { details.append(disabled ? "disabled" : "enabled") }
            if change.password != nil { details.append("password reset") }
            if change.removeSecondFactor { details.append("2FA removed") }
            try await audit(database, "user.update", target: "user:\(user.id) \(username)", details: details.joined(separator: ", "))
        }
    }

    /// Creates an API or overlay key; answers the key (shown once) and its id.
    public static func createKey(
        _ configuration: ServerConfiguration, name: String, overlay: Bool, scopes: [String], expires: String?, logger: Logger
    ) async throws -> (id: Int64, key: String) {
        let parsed: [APIScope]
        switch APIScope.parse(scopes) {
        case .success(let value): parsed = value
        case .failure(let error): throw Failure.invalidScope(error.description)
        }
        let expiresAt: Int64? = try expires.map { text in
            guard let date = ISO8601DateFormatter().date(from: text), date > Date() else { throw Failure.invalidExpiry(text) }
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        return try await withStore(configuration, logger: logger) { database in
            let kind: APIKeyService.Kind = overlay ? .overlay : .api
            let created = try await APIKeyService(database: database).create(name: name, kind: kind, scopes: parsed, expiresAt: expiresAt, createdBy: nil)
            try await audit(database, "key.create", target: "key:\(created.record.id) \(name)", details: "\(kind.rawValue): \(scopes.joined(separator: " "))")
            return (created.record.id, created.key)
        }
    }

    /// One line per key: id, kind, name, scopes, state.
    public static func listKeys(_ configuration: ServerConfiguration, logger: Logger) async throws -> [String] {
        try await withStore(configuration, logger: logger) { database in
            let now = Clock.nowMilliseconds()
            return try await APIKeyService(database: database).list().map { key in
                let state = key.revokedAt != nil ? "revoked" : (key.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                return "\(key.id)\t\(key.kind)\t\(key.name)\t\(key.scopes.isEmpty ? "-" : key.scopes)\t\(state)"
            }
        }
    }

    public static func revokeKey(_ configuration: ServerConfiguration, id: Int64, logger: Logger) async throws {
        try await withStore(configuration, logger: logger) { database in
            guard try await APIKeyService(database: database).revoke(id: id) else { throw Failure.noSuchKey(id) }
            try await audit(database, "key.revoke", target: "key:\(id)")
        }
    }

    private static func audit(_ database: any Database, _ action: String, target: String, details: String? = nil) async throws {
        try await AuditLogRepository(database).append(AuditEntry(actor: "cli", action: action, target: target, outcome: "ok", details: details))
    }

    private static func withStore<T: Sendable>(
        _ configuration: ServerConfiguration, logger: Logger, _ body: @Sendable (any Database) async throws -> T
    ) async throws -> T {
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let database = try await StoreBootstrap.open(configuration, logger: logger)
        do {
            let result = try await body(database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}
