import Accounts
import Logging
import Realtime
import ServiceLifecycle
import Store

/// Cuts off live WebSockets whose credentials were withdrawn, within `interval`: keys revoked or
/// expired, browser sessions logged out, expired, or of a user who was disabled, deleted or given
/// another role. It reads the shared store, so this holds when the change happened on another
/// replica too.
struct RevocationWatcher: Service {
    let keys: APIKeyService
    let sessions: SessionService
    let connections: ConnectionRegistry
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var since = Clock.nowMilliseconds()
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let now = Clock.nowMilliseconds()
            do {
                try await closeRevokedKeys(since: since, now: now)
                since = now
                try await closeEndedSessions(now: now)
            } catch {
                logger.warning("revocation check failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func closeRevokedKeys(since: Int64, now: Int64) async throws {
        let ids = Set(try await keys.deactivated(since: since, now: now).map { "key:\($0)" })
        guard !ids.isEmpty else { return }
        let closed = connections.close(where: { ids.contains($0.id) }, code: CloseCode.credentialsRevoked, reason: CloseCode.keyRevokedReason)
        logger.info("closed connections of deactivated keys", metadata: ["keys": "\(ids.sorted())", "connections": "\(closed)"])
    }

    /// One query for all browser sessions with live sockets (people, so a handful), comparing each
    /// with what the store says now.
    private func closeEndedSessions(now: Int64) async throws {
        let live = connections.principals(where: { $0.credential != nil })
        guard !live.isEmpty else { return }
        let roles = try await sessions.liveRoles(sessionHashes: Array(Set(live.compactMap(\.credential))), now: now)
        let withdrawn = Set(live.filter { principal in
            guard let credential = principal.credential, let role = roles[credential] else { return true }
            return SessionAuthenticator.scopes(for: role) != principal.scopes
        })
        guard !withdrawn.isEmpty else { return }
        let closed = connections.close(where: { withdrawn.contains($0) }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason)
        logger.info("closed connections of ended sessions", metadata: ["users": "\(Set(withdrawn.map(\.id)).sorted())", "connections": "\(closed)"])
    }
}

extension CloseCode {
    static let keyRevokedReason = "key revoked or expired"
    static let sessionEndedReason = "session ended"
}
