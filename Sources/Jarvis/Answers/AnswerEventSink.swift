import NIOConcurrencyHelpers
import Realtime

/// Hands an answer's events, in order, to whoever publishes them (the hub's `jarvis.<id>`
/// channel in the server, a recorder in tests), one at a time: a publication that waits for its
/// offset never lets a later one overtake it.
public final class AnswerEventSink: Sendable {
    public typealias Publish = @Sendable (JSONValue) async throws -> Void

    private let continuation: AsyncStream<JSONValue>.Continuation
    private let drained: Task<[String], Never>

    /// - Parameter publish: called once per event, in order; a failure is kept (see `finish`) and
    ///   the remaining events are still attempted.
    public init(publish: @escaping Publish) {
        let (stream, continuation) = AsyncStream.makeStream(of: JSONValue.self)
        self.continuation = continuation
        drained = Task {
            var failures: [String] = []
            for await event in stream {
                do { try await publish(event) } catch { failures.append(String(describing: error)) }
            }
            return failures
        }
    }

    /// Queues an event; never waits.
    public func send(_ event: JSONValue) {
        continuation.yield(event)
    }

    /// Waits until every queued event went out; returns the publish failures, if any.
    public func finish() async -> [String] {
        continuation.finish()
        return await drained.value
    }
}
