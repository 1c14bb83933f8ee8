import NIOHTTP1
import Logging
import NIOCore
import NIOWebSocket
import Realtime
@_spi(WSInternal) import WSCore

/// What an accepted upgrade runs: the protocol session on `/ws`, or the conformance echo on `/ws/echo`.
enum WebSocketRoute: Sendable {
    case session(Principal)
    case echo(Principal)
}

/// Why an upgrade request was turned down; answered as plain HTTP before any upgrade.
struct UpgradeRefusal: Error, Sendable {
    let status: HTTPResponseStatus
    let code: String
    let message: String
}

/// Decides, from the upgrade request alone, whether a WebSocket may open.
protocol WebSocketUpgradePolicy: Sendable {
    func route(method: HTTPMethod, uri: String, headers: HTTPHeaders) async -> Result<WebSocketRoute, UpgradeRefusal>
}

/// The per-connection work once a socket is upgraded.
protocol WebSocketRouteRunner: Sendable {
    /// Serves an uncompressed connection on its event loop; called on that loop.
    func attach(_ route: WebSocketRoute, to handler: ConnectionHandler, eventLoop: any EventLoop)

    func run(
        _ route: WebSocketRoute,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        connection: ConnectionContext
    ) async throws
}

/// The pieces of an upgraded connection that the runner needs besides the frame streams.
struct ConnectionContext: Sendable {
    let handler: NIOLoopBound<ConnectionHandler>
    let eventLoop: any EventLoop
    let logger: Logger
}
