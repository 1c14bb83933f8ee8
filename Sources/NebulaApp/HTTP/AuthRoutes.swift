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
    let connections: ConnectionRegistry
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/auth")
        group.post("login") { request, context in try await login(request, context: context) }
        group.get("me") { request, _ in try await me(request) }
        group.post("logout") { request, context in try await logout(request, context: context, everywhere: false) }
        group.post("logout-all") { request, context in try await logout(request, context: context, everywhere: true) }
    }

    private func login(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let shape = "{\"username\": ..., \"password\": ...} (and \"totp\" when asked)"
        let value = try await request.jsonObject(upTo: 8 * 1024, expecting: shape)
        guard let username = value["username"]?.stringValue, let password = value["password"]?.stringValue else {
            throw APIError(.badRequest, code: "bad_request", "send \(shape)")
        }
        let result = try await sessions.login(
            username: username, password: password, totpCode: value["totp"]?.stringValue, clientAddress: context.clientAddress
        )
        switch result {
        case .success(let token, let csrf, let user):
            return Self.sessionResponse(user: user, token: token, csrfToken: csrf, request: request, maxAgeMilliseconds: sessions.policy.absolute)
        case .totpRequired:
            throw APIError(.unauthorized, code: "totp_required", "enter the 6-digit code from your authenticator app (or a recovery code)")
        case .refused:
            throw APIError(.unauthorized, code: "unauthorized", "wrong username, password or code")
        case .lockedOut(let wait):
            var error = APIError(.tooManyRequests, code: "locked_out", "too many failed attempts; try again in \((wait + 999) / 1000) s")
            error.retryAfterSeconds = (wait + 999) / 1000
            throw error
        }
    }

    private func me(_ request: Request) async throws -> Response {
        guard let token = Self.sessionToken(request), let authenticated = try await sessions.authenticate(token: token) else {
            throw APIError(.unauthorized, code: "unauthorized", "not logged in")
        }
        return .json(Self.sessionBody(user: authenticated.user, csrfToken: authenticated.session.csrfToken))
    }

    private func logout(_ request: Request, context: NebulaRequestContext, everywhere: Bool) async throws -> Response {
        // A state change: the authenticator insists on the CSRF token for cookie sessions.
        let principal = try await request.principal(using: authenticator)
        guard let credential = principal.credential, let token = Self.sessionToken(request),
            let userID = Int64(principal.id.dropFirst("user:".count))
        else {
            throw APIError(.badRequest, code: "bad_request", "logout ends a browser session; API keys are revoked instead")
        }
        if everywhere {
            try await sessions.logoutEverywhere(userID: userID)
            connections.close(where: { $0.id == principal.id }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason)
        } else {
            try await sessions.logout(token: token)
            connections.close(where: { $0.credential == credential }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason)
        }
        try await audit.append(principal.audit(everywhere ? "logout.all" : "logout", from: context.clientAddress))
        var response = Response.json(Array("{\"result\":{}}".utf8))
        response.headers[.setCookie] = "\(Credentials.sessionCookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        return response
    }

    static func sessionToken(_ request: Request) -> String? {
        request.headers[.cookie].flatMap { Credentials.cookieValue(Credentials.sessionCookie, in: $0) }
    }

    static func sessionBody(user: UserRecord, csrfToken: String) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"result\":{\"user\":")
        user.writeJSON(into: &w)
        w.raw(",\"csrf_token\":")
        w.string(csrfToken)
        w.raw("}}")
        return w.bytes
    }

    /// The answer that logs a browser in: user and CSRF token in the body, the session in a cookie
    /// (`Secure` when a TLS proxy in front says the page came over HTTPS).
    static func sessionResponse(
        user: UserRecord, token: String, csrfToken: String, request: Request, maxAgeMilliseconds: Int64, status: HTTPResponse.Status = .ok
    ) -> Response {
        var response = Response.json(sessionBody(user: user, csrfToken: csrfToken), status: status)
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
        response.headers[.setCookie] =
            "\(Credentials.sessionCookie)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAgeMilliseconds / 1000)\(secure)"
        return response
    }
}
