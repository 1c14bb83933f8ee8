/// How many times each channel was declared interesting and not yet released. The hub declares
/// a channel's first local subscriber and releases its last one from different tasks, so a
/// release can reach the fan-in after the next declaration; counting makes the outcome the same
/// in either order, where a plain set would end with a subscribed channel marked as unwanted.
struct ChannelInterest {
    private var counts: [String: Int] = [:]

    var channels: Set<String> { Set(counts.keys) }

    func contains(_ channel: String) -> Bool { counts[channel] != nil }

    mutating func declare(_ channel: String) {
        counts[channel, default: 0] += 1
    }

    /// True when nothing is interested in `channel` any more.
    @discardableResult
    mutating func release(_ channel: String) -> Bool {
        guard let count = counts[channel] else { return true }
        if count > 1 {
            counts[channel] = count - 1
            return false
        }
        counts[channel] = nil
        return true
    }
}
