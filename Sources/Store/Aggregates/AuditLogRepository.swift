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

/// Where audited actions go. The repository writes them down; the server also publishes each one
/// live to admins.
public protocol AuditSink: Sendable {
    /// Records the entry; answers it with the id the log gave it.
    @discardableResult
    func append(_ entry: AuditEntry) async throws(StoreError) -> AuditEntry
}

/// All SQL about the audit log, in one place. Entries are appended, never changed.
public struct AuditLogRepository: AuditSink {
    public struct Filter: Sendable {
        public var actor: String?
        /// Exact, or a prefix when it ends with `.` (`key.` matches `key.create`).
        public var action: String?
        /// Matches the start of the outcome (`denied` matches `denied, locked out`).
        public var outcome: String?
        public var since: Int64?
        public var until: Int64?
        /// Only entries with a smaller id: the next page of older entries.
        public var beforeID: Int64?
        public var limit: Int

        public init(
            actor: String? = nil, action: String? = nil, outcome: String? = nil, since: Int64? = nil, until: Int64? = nil,
            beforeID: Int64? = nil, limit: Int = 100
        ) {
            self.actor = actor
            self.action = action
            self.outcome = outcome
            self.since = since
            self.until = until
            self.beforeID = beforeID
            self.limit = limit
        }
    }

    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    @discardableResult
    public func append(_ entry: AuditEntry) async throws(StoreError) -> AuditEntry {
        let row = try await database.first("""
            INSERT INTO audit_log (at, actor, action, target, client_address, outcome, details)
            VALUES (\(bind: entry.at), \(bind: entry.actor), \(bind: entry.action), \(bind: entry.target),
                    \(bind: entry.clientAddress), \(bind: entry.outcome), \(bind: entry.details))
            RETURNING id
            """)
        var stored = entry
        stored.id = try row?.int("id") ?? 0
        return stored
    }

    /// Newest first. Every filter value is bound, never spliced.
    public func entries(_ filter: Filter = Filter()) async throws(StoreError) -> [AuditEntry] {
        var sql: SQLStatement = "SELECT * FROM audit_log WHERE at >= \(bind: filter.since ?? Int64.min) AND at <= \(bind: filter.until ?? Int64.max)"
        if let actor = filter.actor { sql = sql + " AND actor = \(bind: actor)" }
        if let action = filter.action {
            // A prefix compares the leading substring rather than using LIKE, so `%` and `_` in a
            // filter mean themselves.
            if action.hasSuffix(".") {
                sql = sql + " AND SUBSTR(action, 1, CAST(\(bind: action.unicodeScalars.count) AS INTEGER)) = \(bind: action)"
            } else {
                sql = sql + " AND action = \(bind: action)"
            }
        }
        if let outcome = filter.outcome { sql = sql + " AND SUBSTR(outcome, 1, CAST(\(bind: outcome.unicodeScalars.count) AS INTEGER)) = \(bind: outcome)" }
        if let before = filter.beforeID { sql = sql + " AND id < \(bind: before)" }
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
