import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basics plus the client's address, which login
/// throttling and the audit log need.
struct NebulaRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// The client's IP address as text: the peer's, or the one a trusted proxy forwarded
    /// (`ClientAddressMiddleware`).
    var clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientAddress = remoteAddress?.ipAddress
    }
}
