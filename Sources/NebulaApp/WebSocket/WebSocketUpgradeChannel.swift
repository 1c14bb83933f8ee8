import HTTPTypes
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Realtime
@_spi(WSInternal) import WSCore

/// An HTTP/1 child channel that upgrades `/ws` requests to WebSockets.
///
/// Hummingbird's own upgrade channel answers a refused upgrade with 400; the contract wants
/// 401 for a bad key before the upgrade, so a refused upgrade here continues as a plain HTTP
/// request and the router answers it. It also installs `ConnectionHandler` in every upgraded
/// pipeline, which the stock channel has no hook for.
struct WebSocketUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    struct Configuration: Sendable {
        var maxFrameSize: Int
        var extensions: [any WebSocketExtensionBuilder]
        var closeTimeout: Duration = .seconds(5)
        var connection: ConnectionHandler.Configuration
    }

    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, Accepted, NIOLoopBound<ConnectionHandler>)
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, UpgradeRefusal)
        /// Served on the event loop from here on; no task needs to stay with it.
        case native
    }

    struct Accepted: Sendable {
        let route: WebSocketRoute
        let extensions: [any WebSocketExtension]
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    struct Context: WebSocketContext {
        let logger: Logger
    }

    let responder: HTTPChannelHandler.Responder
    let configuration: Configuration
    let policy: any WebSocketUpgradePolicy
    let runner: any WebSocketRouteRunner
    let metrics: RealtimeMetrics
    let flushBatchers: FlushBatchers

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // NIO asks twice — may we upgrade, then build the pipeline — so the decision is carried between.
            let accepted = NIOLockedValueBox<Accepted?>(nil)
            let refusal = NIOLockedValueBox<UpgradeRefusal?>(nil)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: configuration.maxFrameSize,
                enableAutomaticErrorHandling: true,
                shouldUpgrade: { channel, head in
                    let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                    promise.completeWithTask {
                        let route: WebSocketRoute
                        switch await policy.route(method: head.method, uri: head.uri, headers: head.headers) {
                        case .success(let accepted): route = accepted
                        case .failure(let refused):
                            refusal.withLockedValue { $0 = refused }
                            return nil
                        }
                        var requestFields = HTTPFields()
                        for (name, value) in head.headers {
                            if let fieldName = HTTPField.Name(name) { requestFields.append(HTTPField(name: fieldName, value: value)) }
                        }
                        let (responseFields, extensions) = try configuration.extensions.serverExtensionNegotiation(requestHeaders: requestFields)
                        accepted.withLockedValue { $0 = Accepted(route: route, extensions: extensions) }
                        return HTTPHeaders(responseFields.map { ($0.name.rawName, $0.value) })
                    }
                    return promise.futureResult
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        guard let accepted = accepted.withLockedValue({ $0 }) else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        let rawWriter = RawFrameWriter()
                        try channel.pipeline.syncOperations.addHandler(rawWriter, position: .first)
                        let handler = ConnectionHandler(
                            configuration: configuration.connection, metrics: metrics,
                            rawWriter: rawWriter, batchers: flushBatchers
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        if accepted.extensions.isEmpty {
                            runner.attach(accepted.route, to: handler, eventLoop: channel.eventLoop)
                            return UpgradeResult.native
                        }
                        let asyncChannel = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return UpgradeResult.websocket(asyncChannel, accepted, NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
            )
            let serverUpgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if let refused = refusal.withLockedValue({ $0 }) {
                            return UpgradeResult.refused(asyncChannel, refused)
                        }
                        return UpgradeResult.notUpgraded(asyncChannel)
                    }
                }
            )
            var pipelineConfiguration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(
                upgradeConfiguration: serverUpgradeConfiguration
            )
            pipelineConfiguration.enablePipelining = false
            pipelineConfiguration.enableErrorHandling = false
            pipelineConfiguration.enableResponseHeaderValidation = false
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: pipelineConfiguration
            )
            return Value(upgradeResult: negotiated, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .native:
                break
            case .refused(let http, let refusal):
                await writeRefusal(refusal, to: http, logger: logger)
            case .websocket(let asyncChannel, let accepted, let handler):
                await runWebSocket(asyncChannel, accepted: accepted, handler: handler, logger: logger)
            }
        } catch {
            logger.debug("connection ended before it was handled", metadata: ["error": "\(error)"])
        }
    }

    /// Answers a refused upgrade and closes: the request was consumed by the upgrade attempt, so
    /// the router never sees it.
    private func writeRefusal(_ refusal: UpgradeRefusal, to http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        let body = APIError.body(code: refusal.code, message: refusal.message)
        var fields: HTTPFields = [.connection: "close", .contentType: "application/json; charset=utf-8", .contentLength: "\(body.count)"]
        if refusal.status == .unauthorized { fields[.wwwAuthenticate] = "Bearer" }
        let head = HTTPResponse(status: .init(code: Int(refusal.status.code)), headerFields: fields)
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [.head(head), .body(ByteBuffer(bytes: body)), .end(nil)])
            }
        } catch {
            logger.debug("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }

    private func runWebSocket(
        _ asyncChannel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>,
        accepted: Accepted,
        handler: NIOLoopBound<ConnectionHandler>,
        logger: Logger
    ) async {
        let connection = ConnectionContext(
            handler: handler,
            eventLoop: asyncChannel.channel.eventLoop,
            logger: logger
        )
        let runner = self.runner
        let route = accepted.route
        let webSocketConfiguration = WebSocketHandler.Configuration(
            extensions: accepted.extensions,
            autoPing: .disabled,  // ConnectionHandler does liveness on the event loop
            closeTimeout: configuration.closeTimeout,
            validateUTF8: true,
            maxFrameSize: configuration.maxFrameSize
        )
        do {
            _ = try await WebSocketHandler.handle(
                type: .server,
                configuration: webSocketConfiguration,
                asyncChannel: asyncChannel,
                context: Context(logger: logger),
                handler: { inbound, outbound, _ in
                    try await runner.run(route, inbound: inbound, outbound: outbound, connection: connection)
                }
            )
        } catch {
            logger.debug("WebSocket ended with an error", metadata: ["error": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    static func nebula(
        configuration: WebSocketUpgradeChannel.Configuration,
        policy: any WebSocketUpgradePolicy,
        runner: any WebSocketRouteRunner,
        metrics: RealtimeMetrics
    ) -> HTTPServerBuilder {
        let batchers = FlushBatchers()
        return .init { responder in
            WebSocketUpgradeChannel(
                responder: responder, configuration: configuration, policy: policy, runner: runner,
                metrics: metrics, flushBatchers: batchers
            )
        }
    }
}
