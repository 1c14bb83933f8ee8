import Hummingbird
import Realtime
import Store

/// `GET /api/v1/audit`: the audit log for admins, newest first, with filters and paging.
struct AuditRoutes {
    let repository: AuditLogRepository
    let authenticator: any Authenticator

    func register(on router: Router<NebulaRequestContext>) {
        router.get("api/v1/audit") { request, _ in try await entries(request) }
    }

    private func entries(_ request: Request) async throws -> Response {
        _ = try await request.admin(using: authenticator, to: "reading the audit log")
        let filter = try Self.filter(request.uri.queryParameters)
        var w = JSONWriter()
        w.raw("{\"result\":{\"entries\":[")
        for (i, entry) in try await repository.entries(filter).enumerated() {
            if i > 0 { w.raw(",") }
            w.value(entry.jsonValue)
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    static func filter(_ query: Parameters) throws -> AuditLogRepository.Filter {
        let text = { (name: String) -> String? in
            guard let value = query.get(name), !value.isEmpty else { return nil }
            return value
        }
        var filter = AuditLogRepository.Filter(actor: text("actor"), action: text("action"), outcome: text("outcome"))
        filter.since = try time("since", text("since"))
        filter.until = try time("until", text("until"))
        if let value = text("limit") {
            guard let limit = Int(value), (1...1000).contains(limit) else {
                throw APIError(.badRequest, code: "bad_request", "'limit' must be an integer from 1 to 1000")
            }
            filter.limit = limit
        }
        if let value = text("before") {
            guard let before = Int64(value) else { throw APIError(.badRequest, code: "bad_request", "'before' must be an entry id") }
            filter.beforeID = before
        }
        return filter
    }

    private static func time(_ name: String, _ value: String?) throws -> Int64? {
        guard let value else { return nil }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: value) else {
            throw APIError(.badRequest, code: "bad_request", "'\(name)' must be an RFC 3339 time like 2026-11-21T00:00:00Z")
        }
        return milliseconds
    }
}
