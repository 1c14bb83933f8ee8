import NIOHTTP1
import Hummingbird
import Realtime

/// `/ws` and `/ws/echo` as seen by the HTTP router: only requests that did not upgrade get here,
/// so each answer explains why.
struct WebSocketRoutes: WebSocketUpgradePolicy {
    let authenticator: any Authenticator
    let connections: ConnectionRegistry
    let echoEnabled: Bool

    func route(method: NIOHTTP1.HTTPMethod, uri: String, headers: HTTPHeaders) async -> Result<WebSocketRoute, UpgradeRefusal> {
        let route = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        guard route == "/ws" || (route == "/ws/echo" && echoEnabled) else {
            return .failure(UpgradeRefusal(status: .notFound, code: "not_found", message: "no WebSocket endpoint at \(route)"))
        }
        guard method == .GET else {
            return .failure(UpgradeRefusal(status: .methodNotAllowed, code: "bad_request", message: "WebSocket upgrades use GET"))
        }
        var credentials = Credentials(authorization: headers.first(name: "authorization"), uri: uri)
        credentials.addBrowserContext(
            cookie: headers.first(name: "cookie"), csrfToken: nil, origin: headers.first(name: "origin"),
            host: headers.first(name: "host"), method: "GET", isWebSocket: true
        )
        guard let principal = await authenticator.authenticate(credentials) else {
            return .failure(UpgradeRefusal(status: .unauthorized, code: "unauthorized", message: APIError.unauthorized.message))
        }
        guard !connections.isDraining else {
            return .failure(UpgradeRefusal(status: .serviceUnavailable, code: "unavailable", message: ServerShutdown.reason))
        }
        return .success(route == "/ws" ? .session(principal) : .echo(principal))
    }

    func register(on router: Router<NebulaRequestContext>) {
        router.get("ws") { request, _ in try await refuse(request) }
        if echoEnabled {
            router.get("ws/echo") { request, _ in try await refuse(request) }
        }
    }

    private func refuse(_ request: Request) async throws -> Response {
        _ = try await request.principal(using: authenticator)
        if connections.isDraining {
            throw APIError(.serviceUnavailable, code: "unavailable", "server shutting down")
        }
        throw APIError(.upgradeRequired, code: "bad_request", "this endpoint speaks WebSocket: send an upgrade request")
    }
}
