import Testing
@testable import Realtime

@Suite("ClientCommand.decode")
struct ClientCommandTests {
    private func decode(_ text: String) throws(CommandDecodingError) -> ClientCommand {
        try ClientCommand.decode(Array(text.utf8))
    }

    private func decodeError(_ text: String) -> CommandDecodingError? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Every operation

    @Test func ping() throws {
        #expect(try decode(#"{"id": 1, "op": "ping"}"#) == ClientCommand(id: 1, operation: .ping))
        #expect(try decode(#"{"op":"ping","id":-5,"extra":[1,2]}"#) == ClientCommand(id: -5, operation: .ping))
        #expect(try decode(#"{"id":0,"op":"ping"}"#).id == 0)
        #expect(try decode(#"{"id":9223372036854775807,"op":"ping"}"#).id == Int64.max)
        #expect(try decode(#"{"id":-9223372036854775808,"op":"ping"}"#).id == Int64.min)
    }

    @Test func subscribe() throws {
        #expect(
            try decode(#"{"id":2,"op":"subscribe","channel":"app.x"}"#)
                == ClientCommand(id: 2, operation: .subscribe(channel: "app.x", since: nil))
        )
        #expect(
            try decode(#"{"id":3,"op":"subscribe","channel":"app.x","since":null}"#)
                == ClientCommand(id: 3, operation: .subscribe(channel: "app.x", since: nil))
        )
        #expect(
            try decode(#"{"id":4,"op":"subscribe","channel":"app.x","since":{"epoch":"abc","offset":17}}"#)
                == ClientCommand(id: 4, operation: .subscribe(channel: "app.x", since: StreamPosition(epoch: "abc", offset: 17)))
        )
        #expect(
            try decode(#"{"id":5,"op":"subscribe","channel":"app.x","since":{"offset":0,"epoch":"","more":true}}"#)
                == ClientCommand(id: 5, operation: .subscribe(channel: "app.x", since: StreamPosition(epoch: "", offset: 0)))
        )
        #expect(
            try decode(#"{"id":6,"op":"subscribe","channel":"app.x","since":{"epoch":"e","offset":9223372036854775807}}"#)
                == ClientCommand(id: 6, operation: .subscribe(channel: "app.x", since: StreamPosition(epoch: "e", offset: UInt64(Int64.max))))
        )
    }

    @Test func subscribeDoesNotValidateTheChannelName() throws {
        // Name checks belong to the registry (unknown_channel), not to the decoder (bad_request).
        #expect(
            try decode(#"{"id":1,"op":"subscribe","channel":""}"#)
                == ClientCommand(id: 1, operation: .subscribe(channel: "", since: nil))
        )
    }

    @Test func unsubscribe() throws {
        #expect(
            try decode(#"{"id":7,"op":"unsubscribe","channel":"app.y"}"#)
                == ClientCommand(id: 7, operation: .unsubscribe(channel: "app.y"))
        )
    }

    @Test func publish() throws {
        #expect(
            try decode(#"{"id":8,"op":"publish","channel":"app.z","data":{"b":2.50,"a":[-0]}}"#)
                == ClientCommand(
                    id: 8,
                    operation: .publish(
                        channel: "app.z",
                        data: .object([(key: "b", value: .number("2.50")), (key: "a", value: .array([.number("-0")]))])
                    )
                )
        )
        #expect(
            try decode(#"{"id":9,"op":"publish","channel":"app.z","data":null}"#)
                == ClientCommand(id: 9, operation: .publish(channel: "app.z", data: .null))
        )
        #expect(
            try decode(#"{"id":10,"op":"publish","channel":"app.z","data":"text"}"#)
                == ClientCommand(id: 10, operation: .publish(channel: "app.z", data: .string("text")))
        )
    }

    @Test func history() throws {
        #expect(
            try decode(#"{"id":11,"op":"history","channel":"app.h"}"#)
                == ClientCommand(id: 11, operation: .history(channel: "app.h", limit: nil))
        )
        #expect(
            try decode(#"{"id":12,"op":"history","channel":"app.h","limit":null}"#)
                == ClientCommand(id: 12, operation: .history(channel: "app.h", limit: nil))
        )
        #expect(
            try decode(#"{"id":13,"op":"history","channel":"app.h","limit":0}"#)
                == ClientCommand(id: 13, operation: .history(channel: "app.h", limit: 0))
        )
        #expect(
            try decode(#"{"id":14,"op":"history","channel":"app.h","limit":25}"#)
                == ClientCommand(id: 14, operation: .history(channel: "app.h", limit: 25))
        )
        #expect(
            try decode(#"{"id":15,"op":"history","channel":"app.h","limit":2147483647}"#)
                == ClientCommand(id: 15, operation: .history(channel: "app.h", limit: Int(Int32.max)))
        )
    }

    @Test func operationsList() {
        #expect(ClientCommand.operations == ["ping", "subscribe", "unsubscribe", "publish", "history"])
    }

    // MARK: Unreadable id → id nil

    @Test("frames without a readable id fail with id nil", arguments: [
        "this is not json",
        "",
        #"{"id": 1, "op": "ping""#,
        #"{"id": 1, "op": "ping"} trailing"#,
        "[1]",
        #"[{"id":1,"op":"ping"}]"#,
        #""string""#,
        "42",
        "null",
        "true",
        #"{}"#,
        #"{"op":"ping"}"#,
        #"{"id":"1","op":"ping"}"#,
        #"{"id":1.5,"op":"ping"}"#,
        #"{"id":1.0,"op":"ping"}"#,
        #"{"id":1e2,"op":"ping"}"#,
        #"{"id":null,"op":"ping"}"#,
        #"{"id":true,"op":"ping"}"#,
        #"{"id":[1],"op":"ping"}"#,
        #"{"id":{"n":1},"op":"ping"}"#,
        #"{"id":9223372036854775808,"op":"ping"}"#,
        #"{"id":"1","op":"dance"}"#,
    ])
    func unreadableID(text: String) throws {
        let error = try #require(decodeError(text))
        #expect(error.id == nil)
        #expect(error.error.code == .badRequest)
    }

    @Test func unreadableIDMessages() throws {
        #expect(try #require(decodeError("nope")).error.message.hasPrefix("frame is not valid JSON"))
        #expect(try #require(decodeError("[1]")).error.message == "a command must be a JSON object")
        #expect(try #require(decodeError(#"{"op":"ping"}"#)).error.message == "missing field 'id' (an integer)")
        #expect(try #require(decodeError(#"{"id":"1"}"#)).error.message == "field 'id' must be an integer")
    }

    // MARK: Readable id → errors carry it

    @Test("errors after the id carry it", arguments: [
        (#"{"id":1}"#, Int64(1), ErrorCode.badRequest),
        (#"{"id":2,"op":5}"#, 2, .badRequest),
        (#"{"id":3,"op":null}"#, 3, .badRequest),
        (#"{"id":4,"op":["ping"]}"#, 4, .badRequest),
        (#"{"id":5,"op":"dance"}"#, 5, .unknownOp),
        (#"{"id":6,"op":"PING"}"#, 6, .unknownOp),
        (#"{"id":7,"op":""}"#, 7, .unknownOp),
        (#"{"id":8,"op":"subscribe"}"#, 8, .badRequest),
        (#"{"id":9,"op":"subscribe","channel":5}"#, 9, .badRequest),
        (#"{"id":10,"op":"subscribe","channel":null}"#, 10, .badRequest),
        (#"{"id":11,"op":"unsubscribe"}"#, 11, .badRequest),
        (#"{"id":12,"op":"unsubscribe","channel":["app.x"]}"#, 12, .badRequest),
        (#"{"id":13,"op":"publish","data":1}"#, 13, .badRequest),
        (#"{"id":14,"op":"publish","channel":"app.x"}"#, 14, .badRequest),
        (#"{"id":15,"op":"publish","channel":true,"data":1}"#, 15, .badRequest),
        (#"{"id":16,"op":"history"}"#, 16, .badRequest),
        (#"{"id":17,"op":"history","channel":{}}"#, 17, .badRequest),
        (#"{"id":-18,"op":"ping2"}"#, -18, .unknownOp),
    ])
    func errorWithID(text: String, id: Int64, code: ErrorCode) throws {
        let error = try #require(decodeError(text))
        #expect(error.id == id)
        #expect(error.error.code == code)
    }

    @Test func errorMessages() throws {
        #expect(try #require(decodeError(#"{"id":1}"#)).error.message == "missing field 'op'")
        #expect(try #require(decodeError(#"{"id":1,"op":1}"#)).error.message == "field 'op' must be a string")
        #expect(
            try #require(decodeError(#"{"id":1,"op":"dance"}"#)).error.message
                == "unknown op 'dance'; expected one of ping, subscribe, unsubscribe, publish, history"
        )
        #expect(try #require(decodeError(#"{"id":1,"op":"history"}"#)).error.message == "'history' needs field 'channel'")
        #expect(try #require(decodeError(#"{"id":1,"op":"history","channel":1}"#)).error.message == "field 'channel' must be a string")
        #expect(try #require(decodeError(#"{"id":1,"op":"publish","channel":"app.x"}"#)).error.message == "'publish' needs field 'data'")
    }

    // MARK: since

    @Test("invalid since is bad_request with the id", arguments: [
        #""x""#,
        "1",
        "true",
        "[]",
        #"{}"#,
        #"{"epoch":"e"}"#,
        #"{"offset":1}"#,
        #"{"epoch":1,"offset":1}"#,
        #"{"epoch":null,"offset":1}"#,
        #"{"epoch":"e","offset":-1}"#,
        #"{"epoch":"e","offset":1.5}"#,
        #"{"epoch":"e","offset":1e3}"#,
        #"{"epoch":"e","offset":"1"}"#,
        #"{"epoch":"e","offset":null}"#,
        #"{"epoch":"e","offset":18446744073709551616}"#,
    ])
    func invalidSince(since: String) throws {
        let error = try #require(decodeError(#"{"id":21,"op":"subscribe","channel":"app.x","since":"# + since + "}"))
        #expect(error.id == 21)
        #expect(error.error.code == .badRequest)
        #expect(error.error.message.contains("'since'"))
    }

    // MARK: limit

    @Test("invalid limit is bad_request with the id", arguments: [
        "-1",
        "1.5",
        "2.0",
        "1e2",
        #""5""#,
        "true",
        "[]",
        #"{}"#,
        "2147483648",
        "9223372036854775808",
    ])
    func invalidLimit(limit: String) throws {
        let error = try #require(decodeError(#"{"id":31,"op":"history","channel":"app.h","limit":"# + limit + "}"))
        #expect(error.id == 31)
        #expect(error.error.code == .badRequest)
        #expect(error.error.message.contains("'limit'"))
    }
}
