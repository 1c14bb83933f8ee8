import DequeModule

/// A connection's pending outbound messages, bounded in bytes.
///
/// Latest-value messages replace an older queued message of the same channel (the client only
/// needs the newest); an ordered message that does not fit means the client cannot keep up, and the
/// caller disconnects it rather than skipping anything silently.
public struct OutboundQueue: Sendable {
    public enum Outcome: Equatable, Sendable {
        case queued
        /// Queued, and an older message of the same latest-value channel was dropped.
        case conflated
        /// A latest-value message found no room and was dropped; the next one may fit.
        case dropped
        /// An ordered message did not fit: the connection must be closed.
        case overflow
    }

    private struct Entry: Sendable {
        var message: OutboundMessage?
    }

    public let limit: Int
    public private(set) var bytes = 0
    private var entries = Deque<Entry>()
    /// Sequence number of `entries.first`; entry `seq` lives at index `seq - headSequence`.
    private var headSequence: UInt64 = 0
    private var latestByKey: [String: UInt64] = [:]

    public init(limit: Int) {
        self.limit = limit
    }

    public var isEmpty: Bool { bytes == 0 }
    public var count: Int { entries.reduce(0) { $0 + ($1.message == nil ? 0 : 1) } }

    public mutating func enqueue(_ message: OutboundMessage) -> Outcome {
        var outcome = Outcome.queued
        if let key = message.conflationKey, let previous = latestByKey[key] {
            let index = Int(previous - headSequence)
            if let old = entries[index].message {
                bytes -= old.byteCount
                entries[index].message = nil
                outcome = .conflated
            }
        }
        // A replacement keeps the queue about the same size, so it is always taken: dropping it
        // would lose the channel's newest value altogether.
        if outcome != .conflated, bytes + message.byteCount > limit, bytes > 0 {
            return message.conflationKey == nil ? .overflow : .dropped
        }
        let sequence = headSequence + UInt64(entries.count)
        entries.append(Entry(message: message))
        bytes += message.byteCount
        if let key = message.conflationKey { latestByKey[key] = sequence }
        return outcome
    }

    public mutating func popFirst() -> OutboundMessage? {
        while let entry = entries.popFirst() {
            let sequence = headSequence
            headSequence += 1
            guard let message = entry.message else { continue }
            bytes -= message.byteCount
            if let key = message.conflationKey, latestByKey[key] == sequence { latestByKey[key] = nil }
            return message
        }
        return nil
    }

    public mutating func removeAll() {
        entries.removeAll()
        latestByKey.removeAll()
        headSequence = 0
        bytes = 0
    }
}
