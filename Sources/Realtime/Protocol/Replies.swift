/// Server → client replies, written straight to JSON (docs/protocol.md, "Frames").
public enum Replies {
    public static func error(id: Int64?, _ error: ProtocolError) -> OutboundMessage {
        var w = JSONWriter()
        w.raw("{\"id\":")
        if let id { w.integer(id) } else { w.raw("null") }
        w.raw(",\"error\":{\"code\":")
        w.string(error.code.rawValue)
        w.raw(",\"message\":")
        w.string(error.message)
        w.raw("}}")
        return OutboundMessage(json: w.bytes)
    }

    /// `{"id": N, "result": {...}}` where `body` writes the members of the result object.
    public static func result(id: Int64, _ body: (inout JSONWriter) -> Void = { _ in }) -> OutboundMessage {
        var w = JSONWriter()
        w.raw("{\"id\":")
        w.integer(id)
        w.raw(",\"result\":{")
        body(&w)
        w.raw("}}")
        return OutboundMessage(json: w.bytes)
    }

    public static func published(id: Int64, channel: String, position: StreamPosition) -> OutboundMessage {
        result(id: id) { w in writePosition(channel: channel, position: position, into: &w) }
    }

    public static func subscribed(id: Int64, channel: String, delivery: DeliveryMode, recovery: Recovery) -> OutboundMessage {
        result(id: id) { w in
            writePosition(channel: channel, position: recovery.position, into: &w)
            w.key("delivery")
            w.string(delivery.rawValue)
            if delivery == .latest, let latest = recovery.latest {
                w.key("publication")
                latest.write(into: &w)
            }
            if let recovered = recovery.recovered {
                w.key("recovered")
                w.bool(recovered)
                w.key("publications")
                writePublications(recovery.publications, into: &w)
            }
        }
    }

    public static func history(id: Int64, channel: String, recovery: Recovery) -> OutboundMessage {
        result(id: id) { w in
            writePosition(channel: channel, position: recovery.position, into: &w)
            w.key("publications")
            writePublications(recovery.publications, into: &w)
        }
    }

    /// A push (no `id`): the server ended this subscription; subscribe again with `since`.
    public static func unsubscribed(channel: String, code: String, message: String) -> OutboundMessage {
        var w = JSONWriter()
        w.raw("{\"channel\":")
        w.string(channel)
        w.raw(",\"unsubscribed\":{\"code\":")
        w.string(code)
        w.raw(",\"message\":")
        w.string(message)
        w.raw("}}")
        return OutboundMessage(json: w.bytes)
    }

    static func writePosition(channel: String, position: StreamPosition, into w: inout JSONWriter) {
        w.key("channel", first: true)
        w.string(channel)
        w.key("epoch")
        w.string(position.epoch)
        w.key("offset")
        w.integer(position.offset)
    }

    static func writePublications(_ publications: [Publication], into w: inout JSONWriter) {
        w.raw("[")
        for (i, publication) in publications.enumerated() {
            if i > 0 { w.raw(",") }
            publication.write(into: &w)
        }
        w.raw("]")
    }
}
