import Hummingbird
import Realtime
import Store

/// `GET /api/v1/alerts`: firing alerts (`?state=firing`, the default) or the newest of all
/// (`?state=all&limit=N`), for any key or session.
struct AlertRoutes {
    let repository: AlertRepository
    let authenticator: any Authenticator

    func register(on router: Router<NebulaRequestContext>) {
        router.get("api/v1/alerts") { request, _ in try await list(request) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await request.principal(using: authenticator)
        let query = request.uri.queryParameters
        let records: [AlertRecord]
        switch query.get("state") ?? "firing" {
        case "firing": records = try await repository.firing()
        case "all":
            let limit = query.get("limit").flatMap(Int.init) ?? 100
            guard (1...1000).contains(limit) else { throw APIError(.badRequest, code: "bad_request", "'limit' must be 1-1000") }
            records = try await repository.recent(limit: limit)
        default: throw APIError(.badRequest, code: "bad_request", "'state' must be firing or all")
        }
        var w = JSONWriter()
        w.raw("{\"result\":{\"alerts\":[")
        for (i, record) in records.enumerated() {
            if i > 0 { w.raw(",") }
            w.value(AlertService.json(AlertService.alert(record)))
        }
        w.raw("]}}")
        return .json(w.bytes)
    }
}
