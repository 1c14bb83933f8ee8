import Foundation
import Store

/// Managing accounts: create, change role, disable, reset passwords, delete — and a user changing
/// their own password. Guards the rules that keep the box manageable: valid names, strong enough
/// passwords, and never zero enabled admins.
public struct UserDirectory: Sendable {
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidUsername(String)
        case weakPassword(String)
        case usernameTaken(String)
        case notFound(Int64)
        /// The change would leave no enabled admin.
        case lastAdmin
        case wrongPassword

        public var description: String {
            switch self {
            case .invalidUsername(let name): "'\(name)' is not a valid username: 1-64 characters, letters, digits, . _ - @"
            case .weakPassword(let reason): "password too weak: \(reason)"
            case .usernameTaken(let name): "a user named '\(name)' already exists"
            case .notFound(let id): "no user with id \(id)"
            case .lastAdmin: "this would leave no enabled admin; make another user admin first"
            case .wrongPassword: "the current password is wrong"
            }
        }
    }

    /// What an admin may change about a user; nil leaves a field as it is.
    public struct Change: Sendable {
        public var role: Role?
        public var disabled: Bool?
        public var password: String?
        /// True turns the user's second factor off (a lost phone).
        public var removeSecondFactor = false

        public init(role: Role? = nil, disabled: Bool? = nil, password: String? = nil, removeSecondFactor: Bool = false) {
            self.role = role
            self.disabled = disabled
            self.password = password
            self.removeSecondFactor = removeSecondFactor
        }
    }

    let database: any Database
    let hasher: PasswordHasher

    public init(database: any Database, hasher: PasswordHasher = PasswordHasher()) {
        self.database = database
        self.hasher = hasher
    }

    public static func isValidUsername(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || ".-_@".unicodeScalars.contains($0) }
    }

    public func all() async throws -> [UserRecord] {
        try await UserRepository(database).all()
    }

    public func find(id: Int64) async throws -> UserRecord? {
        try await UserRepository(database).find(id: id)
    }

    public func count() async throws -> Int {
        try await UserRepository(database).count()
    }

    public func create(username: String, password: String, role: Role) async throws -> UserRecord {
        guard Self.isValidUsername(username) else { throw Failure.invalidUsername(username) }
        let hash = try hashed(password)
        let users = UserRepository(database)
        if try await users.find(username: username) != nil { throw Failure.usernameTaken(username) }
        do {
            return try await users.create(username: username, passwordHash: hash, role: role.rawValue)
        } catch {
            // Lost a race with another request creating the same name.
            if case .constraintViolation = error { throw Failure.usernameTaken(username) }
            throw error
        }
    }

    /// Applies an admin's change. Anything that alters what the user may do ends their sessions,
    /// so live dashboards re-authenticate under the new rules.
    public func update(id: Int64, _ change: Change) async throws -> (user: UserRecord, sessionsEnded: Bool) {
        let hash = try change.password.map(hashed)
        return try await database.transaction { tx in
            let users = UserRepository(tx)
            guard let user = try await users.find(id: id) else { throw Failure.notFound(id) }
            let losesAdmin = user.role == Role.admin.rawValue && !user.disabled
                && ((change.role.map { $0 != .admin } ?? false) || change.disabled == true)
            if losesAdmin, try await users.enabledAdminCount() <= 1 { throw Failure.lastAdmin }
            if let role = change.role { try await users.setRole(role.rawValue, for: id) }
            if let disabled = change.disabled { try await users.setDisabled(disabled, for: id) }
            if let hash { try await users.setPasswordHash(hash, for: id) }
            if change.removeSecondFactor {
                try await users.setTOTPSecret(nil, for: id)
                try await RecoveryCodeRepository(tx).deleteAll(userID: id)
            }
            let endsSessions = (change.role.map { $0.rawValue != user.role } ?? false) || change.disabled == true || hash != nil
                || change.removeSecondFactor
            if endsSessions { try await SessionRepository(tx).deleteAll(userID: id) }
            guard let updated = try await users.find(id: id) else { throw Failure.notFound(id) }
            return (updated, endsSessions)
        }
    }

    public func delete(id: Int64) async throws -> UserRecord {
        try await database.transaction { tx in
            let users = UserRepository(tx)
            guard let user = try await users.find(id: id) else { throw Failure.notFound(id) }
            if user.role == Role.admin.rawValue, !user.disabled, try await users.enabledAdminCount() <= 1 { throw Failure.lastAdmin }
            _ = try await users.delete(id: id)
            return user
        }
    }

    /// The user's own change, once they proved the current password (`SessionService.recheckPassword`):
    /// every other session of theirs ends.
    public func changePassword(userID: Int64, to new: String, keepingSession kept: String) async throws {
        let users = UserRepository(database)
        guard try await users.find(id: userID) != nil else { throw Failure.notFound(userID) }
        try await users.setPasswordHash(try hashed(new), for: userID)
        try await SessionRepository(database).deleteAll(userID: userID, except: kept)
    }

    public func verifyPassword(_ password: String, of user: UserRecord) throws -> Bool {
        try hasher.verify(password, against: user.passwordHash)
    }

    private func hashed(_ password: String) throws -> String {
        do {
            return try hasher.hash(password)
        } catch PasswordHasher.Failure.weakPassword(let reason) {
            throw Failure.weakPassword(reason)
        }
    }
}
