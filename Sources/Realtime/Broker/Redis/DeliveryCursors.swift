/// Per channel, the newest position this replica delivered. Pub/sub may repeat a publication
/// (replay after a reconnect overlaps live messages) or skip some (messages sent while the
/// subscription was down); the cursor turns both into "exactly once, in offset order".
struct DeliveryCursors {
    enum Step: Equatable {
        /// Hand it to subscribers (the cursor moved to it).
        case deliver
        /// Already delivered.
        case skip
        /// Publications between the cursor and this one are missing: read them from history first.
        case catchUp(after: StreamPosition)
        /// The channel's history was lost (its epoch changed): subscribers of an ordered channel
        /// must be told rather than silently continued in a new sequence.
        case lost
    }

    private(set) var positions: [String: StreamPosition] = [:]

    mutating func classify(_ channel: String, _ position: StreamPosition, delivery: DeliveryMode) -> Step {
        guard let cursor = positions[channel] else {
            positions[channel] = position
            return .deliver
        }
        if cursor.epoch != position.epoch {
            positions[channel] = position
            return delivery == .ordered ? .lost : .deliver
        }
        if position.offset <= cursor.offset { return .skip }
        if position.offset == cursor.offset + 1 || delivery == .latest {
            positions[channel] = position
            return .deliver
        }
        return .catchUp(after: cursor)
    }

    /// Moves the cursor to a publication read from history, if it is the next one.
    mutating func advance(_ channel: String, to position: StreamPosition) -> Bool {
        guard let cursor = positions[channel], cursor.epoch == position.epoch, position.offset > cursor.offset else { return false }
        positions[channel] = position
        return true
    }

    /// Where delivery starts for a channel nothing was delivered on yet: the position a subscriber
    /// was given, so a publication made before the Redis subscription was live is fetched from
    /// history instead of being missed.
    mutating func setBaseline(_ channel: String, _ position: StreamPosition) {
        if positions[channel] == nil { positions[channel] = position }
    }

    mutating func reset(_ channel: String, to position: StreamPosition) {
        positions[channel] = position
    }

    mutating func remove(_ channel: String) {
        positions[channel] = nil
    }
}
