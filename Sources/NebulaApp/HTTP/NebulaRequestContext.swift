import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basics plus the peer's address, which login
/// throttling and the audit log need.
struct NebulaRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, for throttling and audit entries.
    var clientAddress: String? { remoteAddress?.ipAddress }
}
