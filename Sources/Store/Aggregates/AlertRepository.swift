/// An alert as stored: one row per alert, from firing to resolved.
public struct AlertRecord: Sendable, Equatable {
    public var id: Int64
    public var key: String
    public var rule: String
    public var severity: String
    public var subject: String
    public var state: String
    public var summary: String
    public var value: Double?
    public var since: Int64
    public var firedAt: Int64
    public var resolvedAt: Int64?

    public init(
        id: Int64 = 0, key: String, rule: String, severity: String, subject: String, state: String, summary: String, value: Double?,
        since: Int64, firedAt: Int64, resolvedAt: Int64?
    ) {
        self.id = id
        self.key = key
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.state = state
        self.summary = summary
        self.value = value
        self.since = since
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
    }
}

/// All SQL about alerts, in one place.
public struct AlertRepository: Sendable {
    let database: any SQLExecutor

    public init(_ database: any SQLExecutor) {
        self.database = database
    }

    /// Stores a newly fired alert; answers it with its id.
    public func insert(_ alert: AlertRecord) async throws(StoreError) -> AlertRecord {
        let row = try await database.first("""
            INSERT INTO alerts (alert_key, rule, severity, subject, state, summary, value, since, fired_at, resolved_at)
            VALUES (\(bind: alert.key), \(bind: alert.rule), \(bind: alert.severity), \(bind: alert.subject), \(bind: alert.state),
                    \(bind: alert.summary), \(bind: alert.value), \(bind: alert.since), \(bind: alert.firedAt), \(bind: alert.resolvedAt))
            RETURNING id
            """)
        var stored = alert
        stored.id = try row?.int("id") ?? 0
        return stored
    }

    public func resolve(id: Int64, at time: Int64, summary: String, value: Double?) async throws(StoreError) {
        try await database.execute("""
            UPDATE alerts SET state = 'resolved', resolved_at = \(bind: time), summary = \(bind: summary), value = \(bind: value)
            WHERE id = \(bind: id)
            """)
    }

    public func firing() async throws(StoreError) -> [AlertRecord] {
        try await database.query("SELECT * FROM alerts WHERE state = 'firing' ORDER BY fired_at").map(Self.record)
    }

    /// Newest first.
    public func recent(limit: Int) async throws(StoreError) -> [AlertRecord] {
        try await database.query("SELECT * FROM alerts ORDER BY fired_at DESC, id DESC LIMIT \(bind: max(0, min(limit, 1000)))").map(Self.record)
    }

    static func record(_ row: SQLRow) throws(StoreError) -> AlertRecord {
        AlertRecord(
            id: try row.int("id"), key: try row.string("alert_key"), rule: try row.string("rule"), severity: try row.string("severity"),
            subject: try row.string("subject"), state: try row.string("state"), summary: try row.string("summary"),
            value: row["value"].double, since: try row.int("since"), firedAt: try row.int("fired_at"), resolvedAt: row.optionalInt("resolved_at")
        )
    }
}
