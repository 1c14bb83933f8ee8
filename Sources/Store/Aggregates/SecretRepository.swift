/// A secret as stored: its name and the sealed box (nonce, ciphertext, tag) — never the value.
public struct SealedSecretRecord: Sendable, Equatable {
    public var name: String
    public var sealed: [UInt8]
    public var updatedAt: Int64

    public init(name: String, sealed: [UInt8], updatedAt: Int64) {
        self.name = name
        self.sealed = sealed
        self.updatedAt = updatedAt
    }
}

/// All SQL about encrypted secrets, in one place. Sealing and opening happen above this layer.
public struct SecretRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    public func put(name: String, sealed: [UInt8], at time: Int64 = Clock.nowMilliseconds()) async throws(StoreError) {
        try await database.execute("""
            INSERT INTO secrets (name, nonce_and_ciphertext, updated_at) VALUES (\(bind: name), \(bind: sealed), \(bind: time))
            ON CONFLICT (name) DO UPDATE SET nonce_and_ciphertext = excluded.nonce_and_ciphertext, updated_at = excluded.updated_at
            """)
    }

    public func find(name: String) async throws(StoreError) -> SealedSecretRecord? {
        try await database.first("SELECT * FROM secrets WHERE name = \(bind: name)").map(Self.record)
    }

    /// Every secret, by name; `sealed` included so a key check can open one.
    public func all() async throws(StoreError) -> [SealedSecretRecord] {
        try await database.query("SELECT * FROM secrets ORDER BY name").map(Self.record)
    }

    /// False when there was no such secret.
    public func delete(name: String) async throws(StoreError) -> Bool {
        !(try await database.query("DELETE FROM secrets WHERE name = \(bind: name) RETURNING name")).isEmpty
    }

    static func record(_ row: SQLRow) throws(StoreError) -> SealedSecretRecord {
        guard let sealed = row["nonce_and_ciphertext"].bytes else {
            throw .decoding(column: "nonce_and_ciphertext", expected: "bytes", found: "\(row["nonce_and_ciphertext"])")
        }
        return SealedSecretRecord(name: try row.string("name"), sealed: sealed, updatedAt: try row.int("updated_at"))
    }
}
