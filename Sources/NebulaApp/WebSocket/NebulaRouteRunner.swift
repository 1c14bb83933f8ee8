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
            guard let session = openSession(for: principal, transport: transport) else {
                handler.delegate = NativeEcho()  // reads the peer's close; sends nothing after ours
                return
            }
            let delegateBox = NIOLoopBoundBox<NativeSession?>(nil, eventLoop: eventLoop)
            let commands = CommandQueue(
                session: session, hub: hub,
                onDrained: { eventLoop.execute { delegateBox.value?.resumeReading(bound.value) } },
                onDisconnected: { [self] in closeSession(session) }
            )
            let native = NativeSession(session: session, commands: commands)
            delegateBox.value = native
            handler.delegate = native
        }
    }

    /// Serves a compressed connection through Hummingbird's WebSocket handler, which owns the
    /// deflate streams; a writer task feeds it from the session's queue.
    func run(
        _ route: WebSocketRoute,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        connection: ConnectionContext
    ) async throws {
        switch route {
        case .echo:
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                switch message {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let bytes): try await outbound.write(.binary(bytes))
                }
            }
        case .session(let principal):
            let transport = CompressingTransport(
                handler: connection.handler, eventLoop: connection.eventLoop,
                maxQueueBytes: maxQueueBytes, metrics: hub.metrics
            )
            guard let session = openSession(for: principal, transport: transport) else {
                for try await _ in inbound {}
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await transport.runWriter(outbound) }
                defer { transport.finish() }
                try await serve(session, inbound: inbound)
            }
        }
    }

    private func serve(_ session: Session, inbound: WebSocketInboundStream) async throws {
        let dispatcher = CommandDispatcher(hub: hub)
        do {
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                switch message {
                case .text(let text): await dispatcher.handle(Array(text.utf8), from: session)
                case .binary: session.send(Replies.error(id: nil, .binaryFrame))
                }
            }
        } catch {
            await hub.disconnect(session)
            closeSession(session)
            throw error
        }
        await hub.disconnect(session)
        closeSession(session)
    }

    /// Registers a new session, or — once shutdown has begun — tells the peer and returns nil.
    private func openSession(for principal: Principal, transport: any OutboundTransport) -> Session? {
        guard let id = connections.admit() else {
            transport.close(code: CloseCode.goingAway, reason: ServerShutdown.reason)
            return nil
        }
        connections.register(id, transport, principal: principal)
        hub.metrics.connections.increment()
        return Session(id: id, principal: principal, transport: transport)
    }

    private func closeSession(_ session: Session) {
        connections.remove(session.id)
        hub.metrics.connections.decrement()
    }
}
