import Accounts
import Logging
import Realtime

/// Dashboard users, by the session cookie set at login. A cookie alone is not enough where a
/// browser can be tricked into sending it: state-changing requests need the session's CSRF token,
/// and WebSocket upgrades need an `Origin` naming this host.
struct SessionAuthenticator: Authenticator {
    let sessions: SessionService
    let logger: Logger

    func authenticate(_ credentials: Credentials) async -> Principal? {
        guard credentials.bearer == nil, credentials.queryToken == nil, let token = credentials.sessionToken else { return nil }
        let authenticated: SessionService.Authenticated?
        do {
            authenticated = try await sessions.authenticate(token: token)
        } catch {
            logger.error("session lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
        guard let authenticated else { return nil }
        if credentials.changesState, credentials.csrfToken != authenticated.session.csrfToken { return nil }
        if credentials.isWebSocket, !credentials.sameOrigin { return nil }
        return Self.principal(for: authenticated)
    }

    static func principal(for authenticated: SessionService.Authenticated) -> Principal {
        Principal(
            id: "user:\(authenticated.user.id)", scopes: scopes(for: authenticated.role), name: authenticated.user.username,
            credential: authenticated.session.idHash
        )
    }

    /// What each role may do, in the scopes every check on the server understands.
    static func scopes(for role: Role) -> Set<Principal.Scope> {
        switch role {
        case .admin: [.admin]
        case .operator: [.read, .publish, .containers, .jobs]
        case .viewer: [.read]
        }
    }
}
