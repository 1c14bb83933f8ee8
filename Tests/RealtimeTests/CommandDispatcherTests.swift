import NIOCore
import Testing
@testable import Realtime

@Suite("CommandDispatcher")
struct CommandDispatcherTests {
    enum Expected: Sendable {
        /// The exact reply.
        case reply(String)
        /// An error reply with this id and code (the message is free text).
        case error(Int64?, ErrorCode)
    }

    /// Sends `frame` and checks that exactly one message came back, and that it is the expected one.
    private func expectOneReply(
        _ f: HubFixture, _ session: Session, _ out: RecordingTransport, _ frame: String, _ expected: Expected,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = out.messages.count
        await f.send(frame, from: session)
        let new = Array(out.messages.dropFirst(before))
        #expect(new.count == 1, "\(frame) got \(new.count) messages: \(new)", sourceLocation: sourceLocation)
        guard let reply = new.first else { return }
        switch expected {
        case .reply(let text):
            #expect(reply == (try json(text)), "reply to \(frame)", sourceLocation: sourceLocation)
        case .error(let id, let code):
            guard case .object(let members) = reply else {
                Issue.record("not an object: \(reply)", sourceLocation: sourceLocation)
                return
            }
            #expect(members.map(\.key) == ["id", "error"], sourceLocation: sourceLocation)
            #expect(reply["id"] == (id.map { .number("\($0)") } ?? .null), "id of the reply to \(frame)", sourceLocation: sourceLocation)
            #expect(reply["error"]?["code"] == .string(code.rawValue), "code of the reply to \(frame)", sourceLocation: sourceLocation)
            let message = reply["error"]?["message"]?.stringValue ?? ""
            #expect(!message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test func everyCommandGetsExactlyOneReplyWithItsID() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .client)
        let cases: [(String, Expected)] = [
            ("this is not json", .error(nil, .badRequest)),
            ("[1,2]", .error(nil, .badRequest)),
            (#"{"op":"ping"}"#, .error(nil, .badRequest)),
            (#"{"id":"15","op":"ping"}"#, .error(nil, .badRequest)),
            (#"{"id":1.5,"op":"ping"}"#, .error(nil, .badRequest)),
            (#"{"id":1,"op":"ping"}"#, .reply(#"{"id":1,"result":{}}"#)),
            (#"{"id":2,"op":"dance"}"#, .error(2, .unknownOp)),
            (#"{"id":3,"op":"subscribe"}"#, .error(3, .badRequest)),
            (#"{"id":4,"op":"subscribe","channel":"nope.nothing"}"#, .error(4, .unknownChannel)),
            (#"{"id":5,"op":"subscribe","channel":"jobs.import"}"#, .error(5, .unknownChannel)),
            (#"{"id":6,"op":"publish","channel":"telemetry.host","data":{"fake":true}}"#, .error(6, .forbidden)),
            (#"{"id":7,"op":"publish","channel":"app.x"}"#, .error(7, .badRequest)),
            (#"{"id":8,"op":"subscribe","channel":"app.x"}"#,
             .reply(#"{"id":8,"result":{"channel":"app.x","epoch":"ep","offset":0,"delivery":"ordered"}}"#)),
            (#"{"id":9,"op":"subscribe","channel":"app.x"}"#, .error(9, .alreadySubscribed)),
            (#"{"id":10,"op":"history","channel":"app.x","limit":5}"#,
             .reply(#"{"id":10,"result":{"channel":"app.x","epoch":"ep","offset":0,"publications":[]}}"#)),
            (#"{"id":11,"op":"unsubscribe","channel":"app.x"}"#, .reply(#"{"id":11,"result":{}}"#)),
            (#"{"id":12,"op":"unsubscribe","channel":"app.x"}"#, .error(12, .notSubscribed)),
            (#"{"id":13,"op":"publish","channel":"app.x","data":{"a":[1,2.5e3,-0]}}"#,
             .reply(#"{"id":13,"result":{"channel":"app.x","epoch":"ep","offset":1}}"#)),
            (#"{"id":14,"op":"history","channel":"app.","limit":1}"#, .error(14, .unknownChannel)),
            (#"{"id":15,"op":"history","channel":"app.x","limit":-1}"#, .error(15, .badRequest)),
            (#"{"id":16,"op":"subscribe","channel":"app.x","since":{"epoch":"ep"}}"#, .error(16, .badRequest)),
            (#"{"id":17,"op":"subscribe","channel":"app.x","since":{"epoch":"ep","offset":0}}"#,
             .reply(#"{"id":17,"result":{"channel":"app.x","epoch":"ep","offset":1,"delivery":"ordered","recovered":true,"publications":[{"channel":"app.x","offset":1,"data":{"a":[1,2.5e3,-0]}}]}}"#)),
            (#"{"id":18,"op":"unsubscribe","channel":"telemetry.containers"}"#, .error(18, .notSubscribed)),
            (#"{"id":19,"op":"unsubscribe"}"#, .error(19, .badRequest)),
            (#"{"id":20,"op":"history","channel":"jobs.x"}"#, .error(20, .unknownChannel)),
            (#"{"id":21,"op":"publish","channel":"app.","data":1}"#, .error(21, .unknownChannel)),
            (#"{"id":22,"op":"subscribe","channel":"app.with space"}"#, .error(22, .unknownChannel)),
            (#"{"id":-23,"op":"ping"}"#, .reply(#"{"id":-23,"result":{}}"#)),
        ]
        for (frame, expected) in cases {
            try await expectOneReply(f, session, out, frame, expected)
        }
        // Bad input never costs the session its subscription.
        #expect(session.channels == ["app.x"])
    }

    @Test func publishToOwnSubscriptionYieldsReplyAndPublication() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .client)
        await f.send(#"{"id":1,"op":"subscribe","channel":"app.self"}"#, from: session)
        await f.send(#"{"id":2,"op":"publish","channel":"app.self","data":"hi"}"#, from: session)
        // The doc allows either order for the publish reply and the publication; both must be there once.
        let tail = Array(out.messages.dropFirst())
        #expect(tail.count == 2)
        #expect(tail.contains(try json(#"{"id":2,"result":{"channel":"app.self","epoch":"ep","offset":1}}"#)))
        #expect(tail.contains(try json(#"{"channel":"app.self","offset":1,"data":"hi"}"#)))
        #expect(out.replies(id: 2).count == 1)
    }

    @Test func historyLimits() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .client)
        for n in 1...150 { try await f.hub.publish(.number("\(n)"), to: "app.backups", by: .client) }

        await f.send(#"{"id":1,"op":"history","channel":"app.backups","limit":1}"#, from: session)
        #expect(out.messages.last == (try json(#"{"id":1,"result":{"channel":"app.backups","epoch":"ep","offset":150,"publications":[{"channel":"app.backups","offset":150,"data":150}]}}"#)))

        await f.send(#"{"id":2,"op":"history","channel":"app.backups","limit":0}"#, from: session)
        #expect(out.messages.last == (try json(#"{"id":2,"result":{"channel":"app.backups","epoch":"ep","offset":150,"publications":[]}}"#)))

        // No limit: the family's history size; a larger limit is capped at it.
        for (id, frame) in [(3, #"{"id":3,"op":"history","channel":"app.backups"}"#), (4, #"{"id":4,"op":"history","channel":"app.backups","limit":100000}"#)] {
            await f.send(frame, from: session)
            let reply = try #require(out.replies(id: Int64(id)).first)
            guard case .array(let publications) = reply["result"]?["publications"] else {
                Issue.record("no publications in \(reply)")
                continue
            }
            #expect(publications.compactMap { $0["offset"]?.uint64Value } == Array(51...150))
        }
        #expect(out.messages.count == 4)
    }

    @Test func historyNeedsNoSubscriptionAndCreatesNone() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .reader)
        await f.send(#"{"id":1,"op":"history","channel":"telemetry.host"}"#, from: session)
        #expect(out.messages == [try json(#"{"id":1,"result":{"channel":"telemetry.host","epoch":"ep","offset":0,"publications":[]}}"#)])
        #expect(session.subscriptionCount == 0)
        #expect(f.hub.subscriberCounts().isEmpty)
    }

    @Test func tooManySubscriptionsCarriesTheID() async throws {
        let f = HubFixture(limits: Hub.Limits(maxSubscriptionsPerSession: 1))
        let (session, out) = f.session(1, .reader)
        try await expectOneReply(f, session, out, #"{"id":1,"op":"subscribe","channel":"app.a"}"#,
                                 .reply(#"{"id":1,"result":{"channel":"app.a","epoch":"ep","offset":0,"delivery":"ordered"}}"#))
        try await expectOneReply(f, session, out, #"{"id":2,"op":"subscribe","channel":"app.b"}"#, .error(2, .tooManySubscriptions))
    }

    @Test func errorReplyEncoding() throws {
        let message = Replies.error(id: nil, ProtocolError(.badRequest, "quote \" and \\ and \n"))
        let text = String(decoding: message.payload.readableBytesView, as: UTF8.self)
        #expect(text == #"{"id":null,"error":{"code":"bad_request","message":"quote \" and \\ and \n"}}"#)
        #expect(ErrorCode.allCases.map(\.rawValue) == [
            "bad_request", "unknown_op", "unknown_channel", "forbidden", "already_subscribed", "not_subscribed",
            "too_many_subscriptions", "unauthorized", "internal",
        ])
    }
}
