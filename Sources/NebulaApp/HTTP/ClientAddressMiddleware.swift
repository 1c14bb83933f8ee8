import Foundation
import HTTPTypes
import Hummingbird

/// Behind a reverse proxy every request comes from the proxy's address, which would make per-address
/// login throttling lock everyone out at once and the audit log useless. When the peer is a trusted
/// proxy, the client is the right-most `X-Forwarded-For` entry that is not itself a trusted proxy;
/// entries further left are whatever the client claimed and are ignored.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = NebulaRequestContext
    let trustedProxies: [IPRange]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let peer = context.clientAddress, isTrusted(peer) {
            let hops = request.headers[values: HTTPField.Name("X-Forwarded-For")!]
                .flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if let client = hops.reversed().first(where: { !isTrusted($0) }), IPRange.bytes(of: client) != nil {
                context.clientAddress = client
            }
        }
        return try await next(request, context)
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
