import NIOCore
import Testing
@testable import Realtime

@Suite("OutboundQueue")
struct OutboundQueueTests {
    /// A message whose JSON payload is exactly `size` bytes (an array padded with spaces is fine:
    /// the queue never looks inside).
    private func message(_ tag: String, size: Int = 10, key: String? = nil) -> OutboundMessage {
        let text = "\"\(tag)\""
        precondition(text.utf8.count <= size)
        return OutboundMessage(json: Array((text + String(repeating: " ", count: size - text.utf8.count)).utf8), conflationKey: key)
    }

    private func tag(_ message: OutboundMessage?) -> String? {
        guard let message else { return nil }
        let text = String(decoding: message.payload.readableBytesView, as: UTF8.self)
        return (try? JSONParser.parse(text))?.stringValue
    }

    private func drain(_ queue: inout OutboundQueue) -> [String] {
        var tags: [String] = []
        while let next = queue.popFirst() { tags.append(tag(next) ?? "?") }
        return tags
    }

    @Test func messageByteCountIsTheWireFrame() {
        #expect(message("a", size: 10).byteCount == 12)
        #expect(message("a", size: 125).byteCount == 127)
        #expect(message("a", size: 126).byteCount == 130)
        #expect(message("a", size: 65535).byteCount == 65539)
        #expect(message("a", size: 65536).byteCount == 65546)
        let frame = message("a", size: 10).wireFrame
        #expect(frame.getInteger(at: 0, as: UInt8.self) == 0x81)
        #expect(frame.getInteger(at: 1, as: UInt8.self) == 10)
    }

    @Test func byteAccounting() {
        var queue = OutboundQueue(limit: 1000)
        #expect(queue.isEmpty)
        #expect(queue.count == 0)
        #expect(queue.bytes == 0)
        #expect(queue.enqueue(message("a", size: 10)) == .queued)
        #expect(queue.bytes == 12)
        #expect(queue.enqueue(message("b", size: 200)) == .queued)
        #expect(queue.bytes == 12 + 204)
        #expect(queue.enqueue(message("c", size: 30, key: "k")) == .queued)
        #expect(queue.bytes == 12 + 204 + 32)
        #expect(queue.count == 3)
        #expect(!queue.isEmpty)
        #expect(tag(queue.popFirst()) == "a")
        #expect(queue.bytes == 204 + 32)
        #expect(tag(queue.popFirst()) == "b")
        #expect(queue.bytes == 32)
        #expect(tag(queue.popFirst()) == "c")
        #expect(queue.bytes == 0)
        #expect(queue.isEmpty)
        #expect(queue.count == 0)
        #expect(queue.popFirst() == nil)
    }

    @Test func popFirstIsFIFO() {
        var queue = OutboundQueue(limit: 10_000)
        for i in 0..<50 { #expect(queue.enqueue(message("m\(i)", key: i % 2 == 0 ? nil : "k\(i)")) == .queued) }
        #expect(drain(&queue) == (0..<50).map { "m\($0)" })
    }

    @Test func conflationReplacesTheOlderMessageOfTheSameKey() {
        var queue = OutboundQueue(limit: 10_000)
        #expect(queue.enqueue(message("a1", key: "a")) == .queued)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("c1", key: "c")) == .queued)
        #expect(queue.enqueue(message("o2")) == .queued)
        #expect(queue.count == 4)
        #expect(queue.bytes == 48)
        #expect(queue.enqueue(message("a2", size: 20, key: "a")) == .conflated)
        #expect(queue.count == 4)
        #expect(queue.bytes == 36 + 22)
        #expect(queue.enqueue(message("a3", size: 15, key: "a")) == .conflated)
        #expect(queue.count == 4)
        #expect(queue.bytes == 36 + 17)
        #expect(drain(&queue) == ["o1", "c1", "o2", "a3"])
        #expect(queue.bytes == 0)
    }

    @Test func keysConflateIndependently() {
        var queue = OutboundQueue(limit: 10_000)
        #expect(queue.enqueue(message("a1", key: "a")) == .queued)
        #expect(queue.enqueue(message("b1", key: "b")) == .queued)
        #expect(queue.enqueue(message("b2", key: "b")) == .conflated)
        #expect(queue.enqueue(message("a2", key: "a")) == .conflated)
        #expect(queue.enqueue(message("b3", key: "b")) == .conflated)
        #expect(queue.count == 2)
        #expect(drain(&queue) == ["a2", "b3"])
    }

    @Test func afterThePoppedMessageTheKeyQueuesAgain() {
        var queue = OutboundQueue(limit: 10_000)
        #expect(queue.enqueue(message("a1", key: "a")) == .queued)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(tag(queue.popFirst()) == "a1")
        #expect(queue.enqueue(message("a2", key: "a")) == .queued)
        #expect(queue.enqueue(message("a3", key: "a")) == .conflated)
        #expect(queue.count == 2)
        #expect(drain(&queue) == ["o1", "a3"])
    }

    @Test func conflationAcrossPoppedHoles() {
        // Pop past a replaced (empty) slot, then conflate again: indices must still line up.
        var queue = OutboundQueue(limit: 10_000)
        #expect(queue.enqueue(message("a1", key: "a")) == .queued)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("a2", key: "a")) == .conflated)
        #expect(queue.enqueue(message("o2")) == .queued)
        #expect(tag(queue.popFirst()) == "o1")  // skips the hole a1 left
        #expect(queue.enqueue(message("a3", key: "a")) == .conflated)
        #expect(queue.enqueue(message("o3")) == .queued)
        #expect(queue.count == 3)
        #expect(drain(&queue) == ["o2", "a3", "o3"])
    }

    @Test func orderedOverflow() {
        var queue = OutboundQueue(limit: 30)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("o2")) == .queued)
        #expect(queue.bytes == 24)
        #expect(queue.enqueue(message("o3")) == .overflow)
        #expect(queue.bytes == 24)
        #expect(queue.count == 2)
        // Exactly at the limit still fits.
        #expect(queue.enqueue(message("o4", size: 4)) == .queued)
        #expect(queue.bytes == 30)
        #expect(queue.enqueue(message("o5", size: 4)) == .overflow)
        #expect(drain(&queue) == ["o1", "o2", "o4"])
    }

    @Test func latestWithNoRoomIsDropped() {
        var queue = OutboundQueue(limit: 30)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("o2")) == .queued)
        #expect(queue.enqueue(message("l1", key: "l")) == .dropped)
        #expect(queue.bytes == 24)
        #expect(queue.count == 2)
        #expect(tag(queue.popFirst()) == "o1")
        // The dropped message left no trace: the next one is queued, not conflated.
        #expect(queue.enqueue(message("l2", key: "l")) == .queued)
        #expect(queue.bytes == 24)
        #expect(drain(&queue) == ["o2", "l2"])
    }

    @Test func replacementIsTakenEvenWhenFull() {
        var queue = OutboundQueue(limit: 30)
        #expect(queue.enqueue(message("l1", key: "l")) == .queued)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("l2", size: 20, key: "l")) == .conflated)
        #expect(queue.bytes == 12 + 22)
        #expect(drain(&queue) == ["o1", "l2"])
    }

    @Test func emptyQueueTakesAnOversizedMessage() {
        var queue = OutboundQueue(limit: 10)
        #expect(queue.enqueue(message("big", size: 50)) == .queued)
        #expect(queue.bytes == 52)
        #expect(queue.enqueue(message("next", size: 10)) == .overflow)
    }

    @Test func removeAll() {
        var queue = OutboundQueue(limit: 10_000)
        #expect(queue.enqueue(message("a1", key: "a")) == .queued)
        #expect(queue.enqueue(message("o1")) == .queued)
        #expect(queue.enqueue(message("a2", key: "a")) == .conflated)
        #expect(tag(queue.popFirst()) == "o1")
        queue.removeAll()
        #expect(queue.isEmpty)
        #expect(queue.bytes == 0)
        #expect(queue.count == 0)
        #expect(queue.popFirst() == nil)
        // Keys are forgotten and the queue works as new.
        #expect(queue.enqueue(message("a3", key: "a")) == .queued)
        #expect(queue.enqueue(message("o2")) == .queued)
        #expect(queue.enqueue(message("a4", key: "a")) == .conflated)
        #expect(queue.count == 2)
        #expect(queue.bytes == 24)
        #expect(drain(&queue) == ["o2", "a4"])
    }
}
