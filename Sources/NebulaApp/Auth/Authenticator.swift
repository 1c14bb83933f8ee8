import Foundation
import Realtime

/// Turns a request's credentials into a principal. The single admin key today; accounts, scoped
/// API keys and session cookies (issue 3) arrive as further implementations.
protocol Authenticator: Sendable {
    func authenticate(_ credentials: Credentials) async -> Principal?
}

/// The credentials a request carries, from any of the places the contract allows.
struct Credentials: Sendable {
    static let sessionCookie = "nebula_session"

    var bearer: String?
    var queryToken: String?
    /// The browser session token from the `nebula_session` cookie.
    var sessionToken: String?
    /// `X-CSRF-Token`, required with a session cookie on anything that changes state.
    var csrfToken: String?
    /// POST, PUT, PATCH, DELETE: cookie-authenticated ones need the CSRF token.
    var changesState = false
    /// A WebSocket upgrade: cookie-authenticated ones need a same-origin `Origin`.
    var isWebSocket = false
    /// The `Origin` header names the host the request was sent to.
    var sameOrigin = false

    /// The token to check: the header wins over the query string.
    var token: String? { bearer ?? queryToken }

    init(bearer: String? = nil, queryToken: String? = nil) {
        self.bearer = bearer
        self.queryToken = queryToken
    }

    /// Reads the cookie, CSRF and origin facts from a request's headers.
    mutating func addBrowserContext(cookie: String?, csrfToken: String?, origin: String?, host: String?, method: String, isWebSocket: Bool) {
        sessionToken = cookie.flatMap { Self.cookieValue(Self.sessionCookie, in: $0) }
        self.csrfToken = csrfToken
        changesState = !["GET", "HEAD", "OPTIONS"].contains(method.uppercased())
        self.isWebSocket = isWebSocket
        if let origin, let host, let components = URLComponents(string: origin), let originHost = components.host {
            let originAuthority = components.port.map { "\(originHost):\($0)" } ?? originHost
            sameOrigin = originAuthority.lowercased() == host.lowercased()
        }
    }

    static func cookieValue(_ name: String, in header: String) -> String? {
        for pair in header.split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name {
                return kv[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    init(authorization: String?, uri: String?) {
        let path = uri
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                bearer = String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        if let path, let query = path.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "token" {
                    queryToken = String(kv[1]).removingPercentEncoding ?? String(kv[1])
                    break
                }
            }
        }
    }
}
