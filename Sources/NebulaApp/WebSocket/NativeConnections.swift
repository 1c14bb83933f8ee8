import NIOCore
import Realtime

/// A protocol v1 session served on the event loop: frames in through `ConnectionHandler`,
/// commands through a `CommandQueue`, messages out through a `DirectTransport`.
final class NativeSession: ConnectionDelegate {
    private let commands: CommandQueue
    private let session: Session
    private var paused = false

    init(session: Session, commands: CommandQueue) {
        self.session = session
        self.commands = commands
    }

    func connection(_ connection: ConnectionHandler, received message: ByteBuffer, isText: Bool) {
        guard isText else {
            session.send(Replies.error(id: nil, .binaryFrame))
            return
        }
        let waiting = commands.enqueue(Array(message.readableBytesView))
        if waiting >= CommandQueue.pauseThreshold, !paused {
            paused = true
            connection.setReading(false)
        }
    }

    /// Called on the loop when the command queue has caught up.
    func resumeReading(_ connection: ConnectionHandler) {
        guard paused else { return }
        paused = false
        connection.setReading(true)
    }

    func connectionClosed(_ connection: ConnectionHandler) {
        commands.disconnect()
    }
}

/// `/ws/echo` served on the event loop: every message goes back as it came.
final class NativeEcho: ConnectionDelegate {
    func connection(_ connection: ConnectionHandler, received message: ByteBuffer, isText: Bool) {
        connection.writeMessage(message, isText: isText)
    }

    func connectionClosed(_ connection: ConnectionHandler) {}
}
