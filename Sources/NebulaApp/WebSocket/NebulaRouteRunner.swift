import Logging
import NIOCore
import Realtime
@_spi(WSInternal) import WSCore

/// Runs an upgraded connection: protocol v1 sessions on `/ws`, a plain echo on `/ws/echo`.
/// This is where a client's frame enters the protocol layer: on the event loop for uncompressed
/// connections (`attach`), through Hummingbird's async handler for compressed ones (`run`).
struct NebulaRouteRunner: WebSocketRouteRunner {
    let hub: Hub
    let connections: ConnectionRegistry
    let maxMessageSize: Int
    let maxQueueBytes: Int

    /// Serves an uncompressed connection on its event loop. Called on that loop.
    func attach(_ route: WebSocketRoute, to handler: ConnectionHandler, eventLoop: any EventLoop) {
        switch route {
        case .echo:
            handler.delegate = NativeEcho()
        case .session(let principal):
            let bound = NIOLoopBound(handler, eventLoop: eventLoop)
            let transport = DirectTransport(handler: bound, eventLoop: eventLoop)
            guard let id = connections.admit() else {
                transport.close(code: CloseCode.goingAway, reason: ServerShutdown.reason)
                handler.delegate = NativeEcho()  // reads the peer's close; sends nothing after ours
                return
            }
            let session = Session(id: id, principal: principal, transport: transport)
            let connections = self.connections
            let metrics = hub.metrics
            connections.register(id, transport)
            metrics.connections.increment()
            let delegateBox = NIOLoopBoundBox<NativeSession?>(nil, eventLoop: eventLoop)
            let commands = CommandQueue(
                session: session, hub: hub,
                onDrained: { eventLoop.execute { delegateBox.value?.resumeReading(bound.value) } },
                onDisconnected: {
                    connections.remove(id)
                    metrics.connections.decrement()
                }
            )
            let native = NativeSession(session: session, commands: commands)
            delegateBox.value = native
            handler.delegate = native
        }
    }

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
