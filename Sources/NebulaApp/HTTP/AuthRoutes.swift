import Accounts
import HTTPTypes
import Hummingbird
import NIOCore
import Realtime
import Store

/// `/api/v1/auth`: login (password, then TOTP when enrolled), the current user, logout, and logout
/// everywhere. The session lives in an HttpOnly, SameSite=Strict cookie; its CSRF token is returned
/// in the body for the dashboard to send as `X-CSRF-Token`.
struct AuthRoutes {
    let sessions: SessionService
    let authenticator: any Authenticator
    let policy: SessionService.Policy

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/auth")
        group.post("login") { request, context in try await login(request, context: context) }
        group.get("me") { request, _ in try await me(request) }
        group.post("logout") { request, _ in try await logout(request, everywhere: false) }
        group.post("logout-all") { request, _ in try await logout(request, everywhere: true) }
    }

    private func login(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 8 * 1024)
        guard let value = try? JSONParser.parse(Array(buffer: body)), value.isObject,
            let username = value["username"]?.stringValue, let password = value["password"]?.stringValue
        else { throw APIError(.badRequest, code: "bad_request", "send {\"username\": ..., \"password\": ...} (and \"totp\" when asked)") }
        let result = try await sessions.login(
            username: username, password: password, totpCode: value["totp"]?.stringValue, clientAddress: context.clientAddress
        )
        switch result {
        case .success(let token, let csrf, let user):
            var w = JSONWriter()
            w.raw("{\"result\":{\"user\":")
            Self.write(user, into: &w)
            w.raw(",\"csrf_token\":")
            w.string(csrf)
            w.raw("}}")
            var response = Response.json(w.bytes)
            let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
            response.headers[.setCookie] = "\(Credentials.sessionCookie)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(policy.absolute / 1000)\(secure)"
            return response
        case .totpRequired:
            throw APIError(.unauthorized, code: "totp_required", "enter the 6-digit code from your authenticator app")
        case .refused:
            throw APIError(.unauthorized, code: "unauthorized", "wrong username, password or code")
        case .lockedOut(let wait):
            var error = APIError(.tooManyRequests, code: "locked_out", "too many failed attempts; try again in \((wait + 999) / 1000) s")
            error.retryAfterSeconds = (wait + 999) / 1000
            throw error
        }
    }

    private func me(_ request: Request) async throws -> Response {
        guard let token = sessionToken(request), let authenticated = try await sessions.authenticate(token: token) else {
            throw APIError(.unauthorized, code: "unauthorized", "not logged in")
        }
        var w = JSONWriter()
        w.raw("{\"result\":{\"user\":")
        Self.write(authenticated.user, into: &w)
        w.raw(",\"csrf_token\":")
        w.string(authenticated.session.csrfToken)
        w.raw("}}")
        return .json(w.bytes)
    }

    private func logout(_ request: Request, everywhere: Bool) async throws -> Response {
        // A state change: the authenticator insists on the CSRF token for cookie sessions.
        let principal = try await request.principal(using: authenticator)
        guard principal.id.hasPrefix("user:"), let token = sessionToken(request) else {
            throw APIError(.badRequest, code: "bad_request", "logout ends a browser session; API keys are revoked instead")
        }
        if everywhere, let id = Int64(principal.id.dropFirst("user:".count)) {
            try await sessions.logoutEverywhere(userID: id)
        } else {
            try await sessions.logout(token: token)
        }
        var response = Response.json(Array("{\"result\":{}}".utf8))
        response.headers[.setCookie] = "\(Credentials.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    private func sessionToken(_ request: Request) -> String? {
        request.headers[.cookie].flatMap { Credentials.cookieValue(Credentials.sessionCookie, in: $0) }
    }

    static func write(_ user: UserRecord, into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.integer(user.id)
        w.raw(",\"username\":")
        w.string(user.username)
        w.raw(",\"role\":")
        w.string(user.role)
        w.raw(",\"totp_enabled\":")
        w.bool(user.totpSecret != nil)
        w.raw("}")
    }
}
