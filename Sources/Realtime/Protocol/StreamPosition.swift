/// Where a channel's stream stands: offsets rise by one per publication within an epoch; a new
/// epoch means earlier history is gone and offsets are not comparable across it.
public struct StreamPosition: Sendable, Hashable, CustomStringConvertible {
    public var epoch: String
    public var offset: UInt64

    public init(epoch: String, offset: UInt64) {
        self.epoch = epoch
        self.offset = offset
    }

    public var description: String { "\(epoch):\(offset)" }
}
