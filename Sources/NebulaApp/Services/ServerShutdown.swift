import Logging
import Realtime
import ServiceLifecycle

/// Runs first on shutdown (it is the last service in the group): refuses new WebSockets, closes
/// open ones with 1001 and a reason, and gives them a moment to finish the close handshake before
/// the HTTP server stops.
struct ServerShutdown: Service {
    static let reason = "server shutting down"

    let connections: ConnectionRegistry
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down", metadata: ["connections": "\(connections.count)"])
        connections.closeAll(code: CloseCode.goingAway, reason: Self.reason)
        await connections.waitUntilEmpty(timeout: grace)
    }
}
