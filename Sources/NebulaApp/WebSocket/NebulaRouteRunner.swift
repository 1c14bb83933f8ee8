import Logging
import NIOCore
import Realtime
@_spi(WSInternal) import WSCore

/// Runs an upgraded connection: protocol v1 sessions on `/ws`, a plain echo on `/ws/echo`.
/// This is where a client's frame enters the protocol layer.
struct NebulaRouteRunner: WebSocketRouteRunner {
    let hub: Hub
    let connections: ConnectionRegistry
    let maxMessageSize: Int
    let maxQueueBytes: Int

    func run(
        _ route: WebSocketRoute,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        connection: ConnectionContext
    ) async throws {
        switch route {
        case .echo:
            try await echo(inbound: inbound, outbound: outbound)
        case .session(let principal):
            try await session(for: principal, inbound: inbound, outbound: outbound, connection: connection)
        }
    }

    private func session(
        for principal: Principal,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        connection: ConnectionContext
    ) async throws {
        if connection.compressed {
            let transport = CompressingTransport(
                handler: connection.handler, eventLoop: connection.eventLoop,
                maxQueueBytes: maxQueueBytes, metrics: hub.metrics
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await transport.runWriter(outbound) }
                defer { transport.finish() }
                try await session(for: principal, transport: transport, inbound: inbound, connection: connection)
            }
        } else {
            let transport = DirectTransport(handler: connection.handler, eventLoop: connection.eventLoop)
            try await session(for: principal, transport: transport, inbound: inbound, connection: connection)
        }
    }

    private func session(
        for principal: Principal,
        transport: any OutboundTransport,
        inbound: WebSocketInboundStream,
        connection: ConnectionContext
    ) async throws {
        guard let id = connections.admit() else {
            // Shutdown began while this socket was upgrading: say so, then let the peer close.
            transport.close(code: CloseCode.goingAway, reason: ServerShutdown.reason)
            for try await _ in inbound {}
            return
        }
        let session = Session(id: id, principal: principal, transport: transport)
        let dispatcher = CommandDispatcher(hub: hub)
        var logger = connection.logger
        logger[metadataKey: "session"] = "\(id)"
        connections.register(id, transport)
        hub.metrics.connections.increment()
        logger.debug("session opened", metadata: ["principal": "\(principal)"])
        defer {
            connections.remove(id)
            hub.metrics.connections.decrement()
        }
        do {
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                switch message {
                case .text(let text):
                    await dispatcher.handle(Array(text.utf8), from: session)
                case .binary:
                    session.send(Replies.error(id: nil, ProtocolError(.badRequest, "binary frames are not part of protocol v1; send JSON text frames")))
                }
            }
        } catch {
            await hub.disconnect(session)
            logger.debug("session closed", metadata: ["error": "\(error)"])
            throw error
        }
        await hub.disconnect(session)
        logger.debug("session closed")
    }

    private func echo(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: maxMessageSize) {
            switch message {
            case .text(let text): try await outbound.write(.text(text))
            case .binary(let bytes): try await outbound.write(.binary(bytes))
            }
        }
    }
}
