import Accounts
import Logging
import Realtime

/// API and overlay keys kept in the store (created from the dashboard, the CLI or the HTTP API).
struct StoredKeyAuthenticator: Authenticator {
    let keys: APIKeyService
    let logger: Logger

    func authenticate(_ credentials: Credentials) async -> Principal? {
        guard let token = credentials.token else { return nil }
        do {
            return try await keys.authenticate(token).map(Self.principal)
        } catch {
            logger.error("key lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func principal(for grant: APIKeyService.Grant) -> Principal {
        var scopes = Set<Principal.Scope>()
        for scope in grant.scopes {
            switch scope {
            case .read: scopes.insert(.read)
            case .publish(let family): scopes.insert(.publishFamily(family))
            case .admin: scopes.insert(.admin)
            case .containers: scopes.insert(.containers)
            case .jobs: scopes.insert(.jobs)
            }
        }
        return Principal(
            id: "key:\(grant.keyID)",
            scopes: scopes,
            channelPrefixes: grant.kind == .overlay ? ["overlay."] : nil
        )
    }
}

/// Tries each authenticator in turn: the bootstrap admin key first, then stored keys.
struct ChainedAuthenticator: Authenticator {
    let authenticators: [any Authenticator]

    func authenticate(_ credentials: Credentials) async -> Principal? {
        for authenticator in authenticators {
            if let principal = await authenticator.authenticate(credentials) { return principal }
        }
        return nil
    }
}
