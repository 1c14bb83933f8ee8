import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Realtime

/// `tls_certificate`: the certificate a TLS server presents — names, expiry, days left — and
/// whether this server would trust it for that host name.
public struct TLSCertificateTool: JarvisTool {
    private let group: any EventLoopGroup
    private let trustRoots: NIOSSLTrustRoots

    /// - Parameter trustRoots: what "trusted" is checked against (the system's CA bundle by default).
    public init(group: any EventLoopGroup, trustRoots: NIOSSLTrustRoots = .default) {
        self.group = group
        self.trustRoots = trustRoots
    }

    public let name = "tls_certificate"
    public let description = "Connect to host:port with TLS and report the server certificate's names, validity dates, days until expiry, and whether it is trusted for that host."
    public let tier = ToolTier.diagnose
    public var parameters: JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object([
                ("host", .object([("type", .string("string"))])),
                ("port", .object([("type", .string("integer")), ("description", .string("default 443"))])),
            ])),
            ("required", .array([.string("host")])),
        ])
    }

    public func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let host = try arguments.toolString("host")
        let port = Int(try arguments.toolInteger("port", in: 1...65_535, default: 443))
        // First look without judging (an expired or self-signed certificate is what one wants to see),
        // then judge it the way a client of that host would.
        let certificate: NIOSSLCertificate
        do {
            certificate = try await handshake(host: host, port: port, verification: .none)
        } catch {
            throw ToolError(.failed, "no TLS handshake with \(host):\(port): \(error)")
        }
        var trustError: String?
        do {
            _ = try await handshake(host: host, port: port, verification: .fullVerification)
        } catch {
            trustError = String(describing: error)
        }
        let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
        let daysLeft = Int(floor(notAfter.timeIntervalSinceNow / 86_400))
        let names = certificate._subjectAlternativeNames().compactMap { name -> String? in
            guard case .dnsName = name.nameType else { return nil }
            return String(decoding: name.contents, as: UTF8.self)
        }
        let formatter = ISO8601DateFormatter()
        return .object([
            ("host", .string(host)),
            ("port", .number(String(port))),
            ("subject", .string(certificate.description)),
            ("dns_names", .array(names.map(JSONValue.string))),
            ("not_before", .string(formatter.string(from: notBefore))),
            ("not_after", .string(formatter.string(from: notAfter))),
            ("days_left", .number(String(daysLeft))),
            ("expired", .bool(daysLeft < 0)),
            ("trusted", .bool(trustError == nil)),
            ("trust_error", trustError.map(JSONValue.string) ?? .null),
        ])
    }

    private func handshake(host: String, port: Int, verification: CertificateVerification) async throws -> NIOSSLCertificate {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verification
        configuration.trustRoots = trustRoots
        let context = try NIOSSLContext(configuration: configuration)
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let watcher = HandshakeWatcher(promise: channel.eventLoop.makePromise())
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try channel.pipeline.syncOperations.addHandler(watcher)
                }
            }
            .connect(host: host, port: port).get()
        defer { channel.close(promise: nil) }
        let watcher = try await channel.pipeline.handler(type: HandshakeWatcher.self).get()
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        try await watcher.promise.futureResult.get()
        let handler = try await channel.pipeline.handler(type: NIOSSLClientHandler.self).get()
        guard let certificate = try await channel.eventLoop.submit({ handler.peerCertificate }).get() else {
            throw ToolError(.failed, "the server presented no certificate")
        }
        return certificate
    }
}

/// Completes when the TLS handshake did (NIOSSL's `handshakeCompleted`), fails with why it did not;
/// always completes, also when the connection never came up. Touched only on its channel's loop.
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { finish(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ToolError(.failed, "the connection closed during the handshake")))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(ToolError(.failed, "the connection closed during the handshake")))
    }
}
