/// One provider of the Jarvis chain as stored; the API key only sealed.
public struct JarvisProviderRecord: Sendable, Equatable {
    public var name: String
    public var baseURL: String
    public var model: String
    public var sealedKey: [UInt8]?
    public var connectTimeoutMilliseconds: Int64
    public var firstTokenTimeoutMilliseconds: Int64
    public var idleTimeoutMilliseconds: Int64
    /// Longest answer asked of this provider (`max_tokens`); nil leaves it to the provider.
    public var maxTokens: Int64?

    public init(
        name: String, baseURL: String, model: String, sealedKey: [UInt8]?, connectTimeoutMilliseconds: Int64,
        firstTokenTimeoutMilliseconds: Int64, idleTimeoutMilliseconds: Int64, maxTokens: Int64? = nil
    ) {
        self.name = name
        self.baseURL = baseURL
        self.model = model
        self.sealedKey = sealedKey
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.firstTokenTimeoutMilliseconds = firstTokenTimeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.maxTokens = maxTokens
    }
}

/// All SQL about the provider chain, in one place.
public struct JarvisProviderRepository: Sendable {
    let database: any Database

    public init(_ database: any Database) {
        self.database = database
    }

    /// In priority order.
    public func all() async throws(StoreError) -> [JarvisProviderRecord] {
        try await database.query("SELECT * FROM jarvis_providers ORDER BY position").map(Self.record)
    }

    /// Replaces the whole chain at once, so no replica ever reads half of an edit.
    public func replaceAll(_ providers: [JarvisProviderRecord]) async throws {
        try await database.transaction { sql in
            try await sql.execute("DELETE FROM jarvis_providers")
            for (position, provider) in providers.enumerated() {
                try await sql.execute("""
                    INSERT INTO jarvis_providers (position, name, base_url, model, sealed_key, connect_timeout_ms,
                                                  first_token_timeout_ms, idle_timeout_ms, max_tokens)
                    VALUES (\(bind: position), \(bind: provider.name), \(bind: provider.baseURL), \(bind: provider.model),
                            \(bind: provider.sealedKey), \(bind: provider.connectTimeoutMilliseconds),
                            \(bind: provider.firstTokenTimeoutMilliseconds), \(bind: provider.idleTimeoutMilliseconds),
                            \(bind: provider.maxTokens))
                    """)
            }
        }
    }

    static func record(_ row: SQLRow) throws(StoreError) -> JarvisProviderRecord {
        JarvisProviderRecord(
            name: try row.string("name"), baseURL: try row.string("base_url"), model: try row.string("model"),
            sealedKey: row["sealed_key"].bytes, connectTimeoutMilliseconds: try row.int("connect_timeout_ms"),
            firstTokenTimeoutMilliseconds: try row.int("first_token_timeout_ms"), idleTimeoutMilliseconds: try row.int("idle_timeout_ms"),
            maxTokens: row.optionalInt("max_tokens"))
    }
}
