import Accounts
import Logging
import Realtime
import ServiceLifecycle
import Store

/// Cuts off live WebSockets whose key was revoked or expired, within `interval` — also when the
/// revocation happened on another replica, since it reads the shared store.
struct RevocationWatcher: Service {
    static let reason = "key revoked or expired"

    let keys: APIKeyService
    let connections: ConnectionRegistry
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var since = Clock.nowMilliseconds()
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let now = Clock.nowMilliseconds()
            do {
                let ids = Set(try await keys.deactivated(since: since, now: now).map { "key:\($0)" })
                since = now
                guard !ids.isEmpty else { continue }
                let closed = connections.close(where: { ids.contains($0.id) }, code: CloseCode.credentialsRevoked, reason: Self.reason)
                logger.info("closed connections of deactivated keys", metadata: ["keys": "\(ids.sorted())", "connections": "\(closed)"])
            } catch {
                logger.warning("revocation check failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
