import Store

/// Creates, checks and revokes API and overlay keys. Keys are 256-bit random strings shown once;
/// only their SHA-256 is stored (they are not passwords: a fast hash of a random key is safe).
public struct APIKeyService: Sendable {
    public enum Kind: String, Sendable {
        case api
        /// Read-only, limited to `overlay.*` channels: safe to paste into an OBS browser source URL.
        case overlay
    }

    public struct Created: Sendable {
        public let key: String
        public let record: APIKeyRecord
    }

    /// A key that authenticated, with what it may do.
    public struct Grant: Sendable, Equatable {
        public let keyID: Int64
        public let name: String
        public let kind: Kind
        public let scopes: [APIScope]
    }

    let repository: APIKeyRepository

    public init(database: any Database) {
        self.repository = APIKeyRepository(database)
    }

    public static func hash(_ key: String) -> String {
        SecretToken.digestHex(key)
    }

    public static func generateKey(kind: Kind) -> String {
        SecretToken.generate(prefix: kind == .overlay ? "nbo_" : "nbk_")
    }

    public func create(name: String, kind: Kind, scopes: [APIScope], expiresAt: Int64?, createdBy: Int64?) async throws -> Created {
        let effective = kind == .overlay ? [APIScope.read] : scopes
        let key = Self.generateKey(kind: kind)
        let record = try await repository.create(
            name: name, keyHash: Self.hash(key), kind: kind.rawValue,
            scopes: effective.map(\.description).joined(separator: " "), createdBy: createdBy, expiresAt: expiresAt
        )
        return Created(key: key, record: record)
    }

    /// The grant of an active key, or nil (unknown, revoked or expired).
    public func authenticate(_ key: String, at time: Int64 = Clock.nowMilliseconds()) async throws -> Grant? {
        guard !key.isEmpty, let record = try await repository.find(keyHash: Self.hash(key)), record.isActive(at: time) else { return nil }
        return grant(record)
    }

    /// Whether the key behind a grant is still usable; sessions re-check this while they live.
    public func isActive(keyID: Int64, at time: Int64 = Clock.nowMilliseconds()) async throws -> Bool {
        try await repository.find(id: keyID)?.isActive(at: time) ?? false
    }

    /// Ids of keys revoked or expired in `(since, now]`, for cutting off live sessions.
    public func deactivated(since: Int64, now: Int64) async throws -> [Int64] {
        try await repository.deactivated(since: since, now: now)
    }

    public func list() async throws -> [APIKeyRecord] {
        try await repository.all()
    }

    public func revoke(id: Int64) async throws -> Bool {
        try await repository.revoke(id: id)
    }

    func grant(_ record: APIKeyRecord) -> Grant {
        Grant(
            keyID: record.id, name: record.name, kind: Kind(rawValue: record.kind) ?? .api,
            scopes: record.scopes.split(separator: " ").compactMap { APIScope(String($0)) }
        )
    }
}
