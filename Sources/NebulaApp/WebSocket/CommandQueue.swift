import DequeModule
import NIOConcurrencyHelpers
import Realtime

/// Runs one connection's commands in arrival order on a task that exists only while there is
/// work, so an idle connection holds no task. Disconnect cleanup runs after the last command.
final class CommandQueue: Sendable {
    private enum Work: Sendable {
        case command([UInt8])
        case disconnect
    }

    private struct State {
        var pending = Deque<Work>()
        var running = false
        var finished = false
    }

    /// Above this many waiting commands the connection stops reading until the queue drains.
    static let pauseThreshold = 32

    private let state = NIOLockedValueBox(State())
    private let session: Session
    private let dispatcher: CommandDispatcher
    private let onDrained: @Sendable () -> Void
    private let onDisconnected: @Sendable () -> Void

    init(session: Session, hub: Hub, onDrained: @escaping @Sendable () -> Void, onDisconnected: @escaping @Sendable () -> Void) {
        self.session = session
        self.dispatcher = CommandDispatcher(hub: hub)
        self.onDrained = onDrained
        self.onDisconnected = onDisconnected
    }

    /// Queues a command; returns how many are waiting, so the caller can pause reading.
    @discardableResult
    func enqueue(_ frame: [UInt8]) -> Int {
        submit(.command(frame))
    }

    /// Queues the session's cleanup after everything already received.
    func disconnect() {
        submit(.disconnect)
    }

    private func submit(_ work: Work) -> Int {
        let (start, count) = state.withLockedValue { state -> (Bool, Int) in
            guard !state.finished else { return (false, 0) }
            if case .disconnect = work { state.finished = true }
            state.pending.append(work)
            defer { state.running = true }
            return (!state.running, state.pending.count)
        }
        if start { Task { await self.drain() } }
        return count
    }

    private func drain() async {
        while true {
            let (next, remaining) = state.withLockedValue { state -> (Work?, Int) in
                guard let work = state.pending.popFirst() else {
                    state.running = false
                    return (nil, 0)
                }
                return (work, state.pending.count)
            }
            guard let next else { return }
            switch next {
            case .command(let frame):
                await dispatcher.handle(frame, from: session)
                if remaining == 0 { onDrained() }
            case .disconnect:
                await dispatcher.hub.disconnect(session)
                onDisconnected()
            }
        }
    }
}
