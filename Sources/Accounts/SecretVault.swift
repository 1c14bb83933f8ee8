import Foundation
import Store

/// Named secrets for integrations, sealed with `SecretBox` before they reach the store. Opening
/// the vault proves the key: a sealed check value written on first start must open, so a wrong
/// or lost key stops the server with a clear message instead of surfacing garbage later.
public struct SecretVault: Sendable {
    /// Reserved: names starting with `_` are the vault's own and never listed or writable.
    static let keyCheckName = "_nebula.key-check"
    static let keyCheckValue = "nebula secret key check"

    public struct Entry: Sendable, Equatable {
        public let name: String
        public let updatedAt: Int64
    }

    let repository: SecretRepository
    public let box: SecretBox
    /// Where the key came from (`NEBULA_SECRET_KEY` or the key file's path), for messages.
    public let keySource: String

    public static func open(database: any Database, environmentKey: String?, dataDirectory: URL) async throws -> SecretVault {
        let repository = SecretRepository(database)
        let check = try await repository.find(name: keyCheckName)
        let loaded = try SecretKeyLoader.load(environmentKey: environmentKey, dataDirectory: dataDirectory, storeHasSecrets: check != nil)
        if let check {
            guard (try? loaded.box.openString(check.sealed, context: keyCheckName)) == keyCheckValue else {
                throw SecretsError.keyMismatch(source: loaded.source)
            }
        } else {
            try await repository.put(name: keyCheckName, sealed: try loaded.box.seal(keyCheckValue, context: keyCheckName))
        }
        return SecretVault(repository: repository, box: loaded.box, keySource: loaded.source)
    }

    /// 1-128 characters of `A-Z a-z 0-9 . _ -`, not starting with `_`.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), !name.hasPrefix("_") else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    public func put(name: String, value: String, at time: Int64 = Clock.nowMilliseconds()) async throws {
        try await repository.put(name: name, sealed: try box.seal(value, context: "secret:\(name)"), at: time)
    }

    /// The plaintext, nil when there is no such secret; `SecretsError.wrongKey` rather than garbage.
    public func value(name: String) async throws -> String? {
        guard let record = try await repository.find(name: name) else { return nil }
        return try box.openString(record.sealed, context: "secret:\(name)")
    }

    public func delete(name: String) async throws -> Bool {
        try await repository.delete(name: name)
    }

    public func list() async throws -> [Entry] {
        try await repository.all().filter { !$0.name.hasPrefix("_") }.map { Entry(name: $0.name, updatedAt: $0.updatedAt) }
    }
}
