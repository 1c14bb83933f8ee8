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

/// Decides, from the upgrade request alone, whether a WebSocket may open. Returning nil hands the
/// request to the HTTP router, which answers 401 (bad key), 404 or 426 as the contract says.
protocol WebSocketUpgradePolicy: Sendable {
    func route(method: HTTPMethod, uri: String, headers: HTTPHeaders) async -> WebSocketRoute?
}

/// The per-connection work once a socket is upgraded.
protocol WebSocketRouteRunner: Sendable {
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
    let compressed: Bool
}
