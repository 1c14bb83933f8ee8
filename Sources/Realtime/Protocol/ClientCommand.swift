/// One command frame from a client, validated: `{"id": N, "op": "...", ...}`.
public struct ClientCommand: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case ping
        case subscribe(channel: String, since: StreamPosition?)
        case unsubscribe(channel: String)
        case publish(channel: String, data: JSONValue)
        case history(channel: String, limit: Int?)
    }

    public let id: Int64
    public let operation: Operation

    public init(id: Int64, operation: Operation) {
        self.id = id
        self.operation = operation
    }
}

/// A frame that could not be turned into a command. `id` is set when it could be read, so the
/// error reply can still be matched to the command.
public struct CommandDecodingError: Error, Sendable, Equatable {
    public let id: Int64?
    public let error: ProtocolError
}

extension ClientCommand {
    public static let operations = ["ping", "subscribe", "unsubscribe", "publish", "history"]

    /// Decodes a text frame. Never throws anything but `CommandDecodingError`.
    public static func decode(_ bytes: [UInt8]) throws(CommandDecodingError) -> ClientCommand {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw CommandDecodingError(id: nil, error: .init(.badRequest, "frame is not valid JSON: \(error)"))
        }
        guard value.isObject else {
            throw CommandDecodingError(id: nil, error: .init(.badRequest, "a command must be a JSON object"))
        }
        guard let idValue = value["id"] else {
            throw CommandDecodingError(id: nil, error: .init(.badRequest, "missing field 'id' (an integer)"))
        }
        guard let id = idValue.int64Value else {
            throw CommandDecodingError(id: nil, error: .init(.badRequest, "field 'id' must be an integer"))
        }
        func fail(_ code: ErrorCode, _ message: String) -> CommandDecodingError {
            CommandDecodingError(id: id, error: .init(code, message))
        }
        guard let opValue = value["op"] else { throw fail(.badRequest, "missing field 'op'") }
        guard let op = opValue.stringValue else { throw fail(.badRequest, "field 'op' must be a string") }

        func channel() throws(CommandDecodingError) -> String {
            guard let channelValue = value["channel"] else { throw fail(.badRequest, "'\(op)' needs field 'channel'") }
            guard let channel = channelValue.stringValue else { throw fail(.badRequest, "field 'channel' must be a string") }
            return channel
        }

        switch op {
        case "ping":
            return ClientCommand(id: id, operation: .ping)
        case "subscribe":
            let name = try channel()
            var since: StreamPosition?
            if let sinceValue = value["since"], sinceValue != .null {
                guard let epoch = sinceValue["epoch"]?.stringValue,
                    let offsetValue = sinceValue["offset"]?.int64Value, offsetValue >= 0
                else {
                    throw fail(.badRequest, "field 'since' must be {\"epoch\": string, \"offset\": integer >= 0}")
                }
                since = StreamPosition(epoch: epoch, offset: UInt64(offsetValue))
            }
            return ClientCommand(id: id, operation: .subscribe(channel: name, since: since))
        case "unsubscribe":
            return ClientCommand(id: id, operation: .unsubscribe(channel: try channel()))
        case "publish":
            let name = try channel()
            guard let data = value["data"] else { throw fail(.badRequest, "'publish' needs field 'data'") }
            return ClientCommand(id: id, operation: .publish(channel: name, data: data))
        case "history":
            let name = try channel()
            var limit: Int?
            if let limitValue = value["limit"], limitValue != .null {
                guard let raw = limitValue.int64Value, raw >= 0, raw <= Int64(Int32.max) else {
                    throw fail(.badRequest, "field 'limit' must be an integer >= 0")
                }
                limit = Int(raw)
            }
            return ClientCommand(id: id, operation: .history(channel: name, limit: limit))
        default:
            throw fail(.unknownOp, "unknown op '\(op)'; expected one of \(operations.joined(separator: ", "))")
        }
    }
}
