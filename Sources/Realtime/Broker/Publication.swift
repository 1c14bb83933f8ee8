/// A publication as stored in history and delivered to subscribers. Immutable and shared: the
/// push frame is serialized once when the publication is created, never per subscriber.
public final class Publication: Sendable {
    public let channel: String
    public let position: StreamPosition
    /// The `data` value as compact JSON text.
    public let data: [UInt8]
    public let publishedAt: ContinuousClock.Instant
    /// `{"channel": ..., "offset": ..., "data": ...}`, framed, ready to write.
    public let message: OutboundMessage

    public init(channel: String, position: StreamPosition, data: [UInt8], delivery: DeliveryMode, publishedAt: ContinuousClock.Instant = .now) {
        self.channel = channel
        self.position = position
        self.data = data
        self.publishedAt = publishedAt
        var writer = JSONWriter(capacity: data.count + channel.utf8.count + 40)
        Publication.write(channel: channel, offset: position.offset, data: data, into: &writer)
        self.message = OutboundMessage(json: writer.bytes, conflationKey: delivery == .latest ? channel : nil)
    }

    public var offset: UInt64 { position.offset }

    /// The push object, also embedded in subscribe and history results.
    static func write(channel: String, offset: UInt64, data: [UInt8], into writer: inout JSONWriter) {
        writer.raw("{\"channel\":")
        writer.string(channel)
        writer.raw(",\"offset\":")
        writer.integer(offset)
        writer.raw(",\"data\":")
        writer.raw(data)
        writer.raw("}")
    }

    func write(into writer: inout JSONWriter) {
        Publication.write(channel: channel, offset: offset, data: data, into: &writer)
    }
}
