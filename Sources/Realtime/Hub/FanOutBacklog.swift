import NIOConcurrencyHelpers

/// Broadcast tasks queued on one event loop and not yet run.
///
/// A broadcast that runs with nothing queued behind it is written and flushed socket by socket in
/// one pass (`FlushTiming.immediate`): a second pass over thousands of connections just to flush
/// them costs more than it saves. When broadcasts pile up on the loop, the earlier ones leave the
/// flush to the loop's batcher, so each connection gets all of its queued frames in one write.
final class FanOutBacklog: Sendable {
    private let queued = NIOLockedValueBox(0)

    func enqueued() {
        queued.withLockedValue { $0 += 1 }
    }

    /// Call when a queued broadcast starts running; says how it should flush.
    func started() -> FlushTiming {
        queued.withLockedValue { queued in
            queued -= 1
            return queued > 0 ? .deferred : .immediate
        }
    }
}
