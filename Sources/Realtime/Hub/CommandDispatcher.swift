/// Turns a client's text frame into hub calls and exactly one reply.
public struct CommandDispatcher: Sendable {
    public let hub: Hub

    public init(hub: Hub) {
        self.hub = hub
    }

    public func handle(_ frame: [UInt8], from session: Session) async {
        let command: ClientCommand
        do {
            command = try ClientCommand.decode(frame)
        } catch {
            session.send(Replies.error(id: error.id, error.error))
            return
        }
        do {
            try await execute(command, from: session)
        } catch {
            session.send(Replies.error(id: command.id, error))
        }
    }

    private func execute(_ command: ClientCommand, from session: Session) async throws(ProtocolError) {
        let id = command.id
        switch command.operation {
        case .ping:
            session.send(Replies.result(id: id))
        case .subscribe(let channel, let since):
            try await hub.subscribe(session, to: channel, since: since) { delivery, recovery in
                Replies.subscribed(id: id, channel: channel, delivery: delivery, recovery: recovery)
            }
        case .unsubscribe(let channel):
            try await hub.unsubscribe(session, from: channel)
            session.send(Replies.result(id: id))
        case .publish(let channel, let data):
            let position = try await hub.publish(data, to: channel, by: session.principal)
            session.send(Replies.published(id: id, channel: channel, position: position))
        case .history(let channel, let limit):
            let recovery = try await hub.history(of: channel, limit: limit, for: session.principal)
            session.send(Replies.history(id: id, channel: channel, recovery: recovery))
        }
    }
}
