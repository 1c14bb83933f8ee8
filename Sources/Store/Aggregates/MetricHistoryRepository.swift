/// A measured value at a time, for one series (`container`/`plex`/`cpu_percent`).
public struct MetricSample: Sendable, Equatable {
    public var kind: String
    public var subject: String
    public var metric: String
    public var value: Double

    public init(kind: String, subject: String, metric: String, value: Double) {
        self.kind = kind
        self.subject = subject
        self.metric = metric
        self.value = value
    }
}

/// One point of a series at some resolution: the bucket's start and the min/avg/max within it.
public struct MetricPoint: Sendable, Equatable {
    public var bucket: Int64
    public var min: Double
    public var avg: Double
    public var max: Double
    public var samples: Int
}

/// All SQL about metric history, in one place: raw samples and their rollups, kept by tier
/// (`HistoryTier`) and pruned by age.
public struct MetricHistoryRepository: Sendable {
    let database: any Database

    public init(_ database: any Database) {
        self.database = database
    }

    /// Records samples taken at `time` into every tier, in one transaction.
    public func record(_ samples: [MetricSample], at time: Int64, tiers: [HistoryTier] = HistoryTier.standard) async throws {
        guard !samples.isEmpty else { return }
        let dialect = database.dialect
        try await database.transaction { tx in
            for sample in samples {
                let series = try await Self.seriesID(sample, in: tx)
                for tier in tiers {
                    try await tx.execute(Self.upsert(series: series, tier: tier, time: time, value: sample.value, dialect: dialect))
                }
            }
        }
    }

    /// Points of one series between `from` and `to` (Unix ms, inclusive) at one tier, oldest first.
    public func points(kind: String, subject: String, metric: String, tier: HistoryTier, from: Int64, to: Int64) async throws(StoreError) -> [MetricPoint] {
        let rows = try await database.query("""
            SELECT p.bucket, p.min_value, p.avg_value, p.max_value, p.samples FROM metric_points p
            JOIN metric_series s ON s.id = p.series_id
            WHERE s.kind = \(bind: kind) AND s.subject = \(bind: subject) AND s.metric = \(bind: metric)
              AND p.resolution = \(bind: tier.seconds) AND p.bucket >= \(bind: from) AND p.bucket <= \(bind: to)
            ORDER BY p.bucket
            """)
        var points: [MetricPoint] = []
        for row in rows {
            points.append(MetricPoint(
                bucket: try row.int("bucket"), min: row["min_value"].double ?? 0, avg: row["avg_value"].double ?? 0,
                max: row["max_value"].double ?? 0, samples: Int(try row.int("samples"))
            ))
        }
        return points
    }

    /// The series there are, for pickers: kind, subject, metric.
    public func series() async throws(StoreError) -> [(kind: String, subject: String, metric: String)] {
        var result: [(kind: String, subject: String, metric: String)] = []
        for row in try await database.query("SELECT kind, subject, metric FROM metric_series ORDER BY kind, subject, metric") {
            result.append((try row.string("kind"), try row.string("subject"), try row.string("metric")))
        }
        return result
    }

    /// Drops points older than each tier keeps; answers how many went.
    @discardableResult
    public func prune(now: Int64, tiers: [HistoryTier] = HistoryTier.standard) async throws(StoreError) -> Int {
        var removed = 0
        for tier in tiers {
            let rows = try await database.query("""
                DELETE FROM metric_points WHERE resolution = \(bind: tier.seconds) AND bucket < \(bind: now - tier.retentionMilliseconds)
                RETURNING series_id
                """)
            removed += rows.count
        }
        return removed
    }

    public func count() async throws(StoreError) -> Int {
        Int(try await database.first("SELECT COUNT(*) AS n FROM metric_points")?.int("n") ?? 0)
    }

    private static func seriesID(_ sample: MetricSample, in tx: any SQLExecutor) async throws(StoreError) -> Int64 {
        if let row = try await tx.first("""
            SELECT id FROM metric_series WHERE kind = \(bind: sample.kind) AND subject = \(bind: sample.subject) AND metric = \(bind: sample.metric)
            """)
        {
            return try row.int("id")
        }
        let row = try await tx.first("""
            INSERT INTO metric_series (kind, subject, metric) VALUES (\(bind: sample.kind), \(bind: sample.subject), \(bind: sample.metric))
            RETURNING id
            """)
        guard let row else { throw .statementFailed(statement: "INSERT INTO metric_series", reason: "no id returned") }
        return try row.int("id")
    }

    /// Folds one value into its bucket: a new bucket starts with it; an existing one keeps the
    /// smallest, largest and running average.
    private static func upsert(series: Int64, tier: HistoryTier, time: Int64, value: Double, dialect: SQLDialect) -> SQLStatement {
        let bucket = tier.seconds == 0 ? time : time - time % (Int64(tier.seconds) * 1000)
        let least = dialect == .postgres ? "LEAST" : "MIN"
        let greatest = dialect == .postgres ? "GREATEST" : "MAX"
        return """
            INSERT INTO metric_points (series_id, resolution, bucket, min_value, avg_value, max_value, samples)
            VALUES (\(bind: series), \(bind: tier.seconds), \(bind: bucket), \(bind: value), \(bind: value), \(bind: value), 1)
            ON CONFLICT (series_id, resolution, bucket) DO UPDATE SET
                min_value = \(unsafeRaw: least)(metric_points.min_value, excluded.min_value),
                max_value = \(unsafeRaw: greatest)(metric_points.max_value, excluded.max_value),
                avg_value = (metric_points.avg_value * metric_points.samples + excluded.avg_value) / (metric_points.samples + 1),
                samples = metric_points.samples + 1
            """
    }
}

/// A resolution of history and how long it is kept: raw samples for 2 days, 5-minute rollups for
/// 30 days, hourly for a year.
public struct HistoryTier: Sendable, Equatable {
    public let name: String
    /// Bucket width in seconds; 0 keeps every raw sample.
    public let seconds: Int
    public let retentionMilliseconds: Int64

    public init(name: String, seconds: Int, retentionDays: Int64) {
        self.name = name
        self.seconds = seconds
        self.retentionMilliseconds = retentionDays * 86_400_000
    }

    public static let raw = HistoryTier(name: "raw", seconds: 0, retentionDays: 2)
    public static let fiveMinutes = HistoryTier(name: "5m", seconds: 300, retentionDays: 30)
    public static let hourly = HistoryTier(name: "1h", seconds: 3600, retentionDays: 365)
    public static let standard = [raw, fiveMinutes, hourly]
}
