/// One audited action: who did what to what, from where, and how it went.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    public var action: String
    public var target: String?
    public var clientAddress: String?
    public var outcome: String
    public var details: String?

    public init(id: Int64 = 0, at: Int64 = Clock.nowMilliseconds(), actor: String, action: String, target: String? = nil, clientAddress: String? = nil, outcome: String, details: String? = nil) {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.clientAddress = clientAddress
        self.outcome = outcome
        self.details = details
    }
}

/// All SQL about the audit log, in one place. Entries are appended, never changed.
public struct AuditLogRepository: Sendable {
    public struct Filter: Sendable {
        public var actor: String?
        public var action: String?
        public var since: Int64?
        public var until: Int64?
        public var limit: Int

        public init(actor: String? = nil, action: String? = nil, since: Int64? = nil, until: Int64? = nil, limit: Int = 100) {
            self.actor = actor
            self.action = action
            self.since = since
            self.until = until
            self.limit = limit
        }
    }

    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    public func append(_ entry: AuditEntry) async throws(StoreError) {
        try await database.execute("""
            INSERT INTO audit_log (at, actor, action, target, client_address, outcome, details)
            VALUES (\(bind: entry.at), \(bind: entry.actor), \(bind: entry.action), \(bind: entry.target),
                    \(bind: entry.clientAddress), \(bind: entry.outcome), \(bind: entry.details))
            """)
    }

    /// Newest first. Every filter value is bound, never spliced.
    public func entries(_ filter: Filter = Filter()) async throws(StoreError) -> [AuditEntry] {
        var sql: SQLStatement = "SELECT * FROM audit_log WHERE at >= \(bind: filter.since ?? Int64.min) AND at <= \(bind: filter.until ?? Int64.max)"
        if let actor = filter.actor { sql = sql + " AND actor = \(bind: actor)" }
        if let action = filter.action { sql = sql + " AND action = \(bind: action)" }
        sql = sql + " ORDER BY at DESC, id DESC LIMIT \(bind: max(0, min(filter.limit, 10_000)))"
        let rows = try await database.query(sql)
        var entries: [AuditEntry] = []
        for row in rows {
            entries.append(AuditEntry(
                id: try row.int("id"), at: try row.int("at"), actor: try row.string("actor"),
                action: try row.string("action"), target: row.optionalString("target"),
                clientAddress: row.optionalString("client_address"), outcome: try row.string("outcome"),
                details: row.optionalString("details")
            ))
        }
        return entries
    }
}
