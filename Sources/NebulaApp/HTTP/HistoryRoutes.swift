import Hummingbird
import Realtime
import Store

/// `GET /api/v1/history`: one series over a time range at a resolution, and
/// `GET /api/v1/history/series`: which series exist.
struct HistoryRoutes {
    let repository: MetricHistoryRepository
    let authenticator: any Authenticator

    func register(on router: Router<NebulaRequestContext>) {
        router.get("api/v1/history") { request, _ in try await points(request) }
        router.get("api/v1/history/series") { request, _ in try await series(request) }
    }

    private func points(_ request: Request) async throws -> Response {
        _ = try await request.principal(using: authenticator)
        let query = request.uri.queryParameters
        func required(_ name: String) throws -> String {
            guard let value = query.get(name), !value.isEmpty else {
                throw APIError(.badRequest, code: "bad_request", "query parameter '\(name)' is required")
            }
            return value
        }
        let kind = try required("kind"), subject = try required("subject"), metric = try required("metric")
        let now = Clock.nowMilliseconds()
        let to = try time(query.get("to"), name: "to") ?? now
        let from = try time(query.get("from"), name: "from") ?? (to - 3_600_000)
        guard from <= to else { throw APIError(.badRequest, code: "bad_request", "'from' must not be after 'to'") }
        let tier: HistoryTier
        switch query.get("resolution") ?? "auto" {
        case "raw": tier = .raw
        case "5m": tier = .fiveMinutes
        case "1h": tier = .hourly
        case "auto":
            // As fine as the range allows while staying a few hundred points.
            let span = to - from
            tier = span <= 6 * 3_600_000 ? .raw : (span <= 7 * 86_400_000 ? .fiveMinutes : .hourly)
        default: throw APIError(.badRequest, code: "bad_request", "'resolution' must be raw, 5m, 1h or auto")
        }
        let points = try await repository.points(kind: kind, subject: subject, metric: metric, tier: tier, from: from, to: to)
        var w = JSONWriter()
        w.raw("{\"result\":{\"kind\":")
        w.string(kind)
        w.raw(",\"subject\":")
        w.string(subject)
        w.raw(",\"metric\":")
        w.string(metric)
        w.raw(",\"resolution\":")
        w.string(tier.name)
        w.raw(",\"points\":[")
        for (i, point) in points.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"t\":")
            w.integer(point.bucket)
            for (key, value) in [("min", point.min), ("avg", point.avg), ("max", point.max)] {
                w.raw(",")
                w.string(key)
                w.raw(":")
                w.raw(Array(String(value.isFinite ? value : 0).utf8))
            }
            w.raw(",\"samples\":")
            w.integer(point.samples)
            w.raw("}")
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    private func series(_ request: Request) async throws -> Response {
        _ = try await request.principal(using: authenticator)
        var w = JSONWriter()
        w.raw("{\"result\":{\"series\":[")
        for (i, s) in try await repository.series().enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"kind\":")
            w.string(s.kind)
            w.raw(",\"subject\":")
            w.string(s.subject)
            w.raw(",\"metric\":")
            w.string(s.metric)
            w.raw("}")
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    /// RFC 3339 or Unix milliseconds.
    private func time(_ text: String?, name: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        if let milliseconds = Int64(text) { return milliseconds }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: text) else {
            throw APIError(.badRequest, code: "bad_request", "'\(name)' must be an RFC 3339 time or Unix milliseconds")
        }
        return milliseconds
    }
}
