import Foundation
import Testing
@testable import Realtime

@Suite("Hub and Session")
struct HubTests {
    private func subscribeFrame(_ id: Int64, _ channel: String, since: StreamPosition? = nil) -> String {
        guard let since else { return #"{"id":\#(id),"op":"subscribe","channel":"\#(channel)"}"# }
        return #"{"id":\#(id),"op":"subscribe","channel":"\#(channel)","since":{"epoch":"\#(since.epoch)","offset":\#(since.offset)}}"#
    }

    private func publishFrame(_ id: Int64, _ channel: String, _ data: String) -> String {
        #"{"id":\#(id),"op":"publish","channel":"\#(channel)","data":\#(data)}"#
    }

    private func pub(_ channel: String, _ offset: UInt64, _ data: String) throws -> JSONValue {
        try json(#"{"channel":"\#(channel)","offset":\#(offset),"data":\#(data)}"#)
    }

    private func offsets(_ values: [JSONValue]) -> [UInt64] {
        values.compactMap { $0["offset"]?.uint64Value }
    }

    // MARK: Subscribe and deliver

    @Test func subscribeReplyThenPublicationsInOrder() async throws {
        let f = HubFixture()
        let (publisher, publisherOut) = f.session(1, .client)
        let (subscriber, subscriberOut) = f.session(2, .reader)
        await f.send(publishFrame(1, "app.s", #"{"n":1}"#), from: publisher)
        await f.send(publishFrame(2, "app.s", #"{"n":2}"#), from: publisher)
        await f.send(subscribeFrame(10, "app.s"), from: subscriber)
        for n in 3...5 { await f.send(publishFrame(Int64(n), "app.s", #"{"n":\#(n)}"#), from: publisher) }

        #expect(subscriberOut.messages == [
            try json(#"{"id":10,"result":{"channel":"app.s","epoch":"ep","offset":2,"delivery":"ordered"}}"#),
            try pub("app.s", 3, #"{"n":3}"#),
            try pub("app.s", 4, #"{"n":4}"#),
            try pub("app.s", 5, #"{"n":5}"#),
        ])
        #expect(publisherOut.messages == (1...5).map { n in
            try! json(#"{"id":\#(n),"result":{"channel":"app.s","epoch":"ep","offset":\#(n)}}"#)
        })
        #expect(f.hub.subscriberCounts() == ["app.s": 1])
        #expect(f.hub.metrics.subscriptions.current == 1)
    }

    @Test func manySubscribersEachGetEveryPublicationOnce() async throws {
        let f = HubFixture()
        let subscribers = (1...5).map { f.session(UInt64($0), .reader) }
        for (i, (session, _)) in subscribers.enumerated() { await f.send(subscribeFrame(Int64(i), "app.fan"), from: session) }
        for n in 1...20 { try await f.hub.publish(.number("\(n)"), to: "app.fan", by: .client) }
        for (_, out) in subscribers {
            #expect(out.replies.count == 1)
            #expect(out.publicationOffsets(channel: "app.fan") == Array(1...20))
            #expect(out.publications.map { $0["data"] } == (1...20).map { JSONValue.number("\($0)") })
        }
        #expect(f.hub.subscriberCounts() == ["app.fan": 5])
    }

    @Test func concurrentPublishersAreSeenInOffsetOrderExactlyOnce() async throws {
        let f = HubFixture()
        let (subscriber, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "app.load"), from: subscriber)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<4 {
                group.addTask {
                    for n in 0..<250 {
                        let data = JSONValue.object([(key: "p", value: .number("\(p)")), (key: "n", value: .number("\(n)"))])
                        try await f.hub.publish(data, to: "app.load", by: .client)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(out.replies == [try json(#"{"id":1,"result":{"channel":"app.load","epoch":"ep","offset":0,"delivery":"ordered"}}"#)])
        let publications = out.publications
        #expect(publications.count == 1000)
        #expect(offsets(publications) == Array(1...1000))
        // Each publisher's own publications arrive in the order it made them.
        for p in 0..<4 {
            let ns = publications.filter { $0["data"]?["p"] == .number("\(p)") }.compactMap { $0["data"]?["n"]?.int64Value }
            #expect(ns == Array(0..<250))
        }
        #expect(await f.top("app.load") == 1000)
    }

    @Test func subscribeRacingWithPublishing() async throws {
        let f = HubFixture()
        let total: UInt64 = 3000
        let publisher = Task {
            for i in 1...total {
                try await f.hub.publish(.number("\(i)"), to: "app.race", by: .client)
                if i % 64 == 0 { await Task.yield() }
            }
        }
        var subscribers: [(Session, RecordingTransport)] = []
        for k in 0..<6 {
            while await f.top("app.race") < UInt64(k) * 400 { await Task.yield() }
            let s = f.session(UInt64(k + 1), .reader)
            await f.send(subscribeFrame(Int64(k), "app.race"), from: s.0)
            subscribers.append(s)
        }
        try await publisher.value

        for (k, (_, out)) in subscribers.enumerated() {
            let messages = out.messages
            let reply = try #require(messages.first)
            #expect(reply["id"] == .number("\(k)"), "the subscribe reply must come first")
            let top = try #require(reply["result"]?["offset"]?.uint64Value)
            #expect(out.replies.count == 1)
            let expected = top < total ? Array((top + 1)...total) : []
            #expect(out.publicationOffsets(channel: "app.race") == expected, "subscriber \(k) joined at \(top)")
            #expect(out.publications.allSatisfy { $0["data"]?.uint64Value == $0["offset"]?.uint64Value })
        }
    }

    /// Makes the race window deterministic: the broker publishes while the subscription is between
    /// joining the fan-out and learning the channel's position, and again right after.
    @Test func publicationsDuringSubscribeAreHeldAndDeduplicated() async throws {
        let broker = RacingBroker(publishBefore: 2, publishAfter: 3)
        let hub = Hub(registry: .standard, broker: broker)
        let dispatcher = CommandDispatcher(hub: hub)
        for n in 1...4 { try await hub.publish(.number("\(n)"), to: "app.w", by: .client) }
        let out = RecordingTransport()
        let session = Session(id: 1, principal: .reader, transport: out)
        await dispatcher.handle(Array(#"{"id":1,"op":"subscribe","channel":"app.w"}"#.utf8), from: session)
        try await hub.publish(.number("10"), to: "app.w", by: .client)
        // 1...4 before, 5...6 published before recovery (covered by the reply), 7...9 after it, 10 live.
        #expect(out.messages == [
            try json(#"{"id":1,"result":{"channel":"app.w","epoch":"ep","offset":6,"delivery":"ordered"}}"#),
            try pub("app.w", 7, "7"),
            try pub("app.w", 8, "8"),
            try pub("app.w", 9, "9"),
            try pub("app.w", 10, "10"),
        ])

        // With `since`, the reply carries what was missed up to its position, and the rest follows once.
        let out2 = RecordingTransport()
        let session2 = Session(id: 2, principal: .reader, transport: out2)
        await dispatcher.handle(Array(#"{"id":2,"op":"subscribe","channel":"app.w","since":{"epoch":"ep","offset":8}}"#.utf8), from: session2)
        try await hub.publish(.number("16"), to: "app.w", by: .client)
        let reply = try #require(out2.messages.first)
        #expect(reply == (try json(
            #"{"id":2,"result":{"channel":"app.w","epoch":"ep","offset":12,"delivery":"ordered","recovered":true,"publications":["#
                + (9...12).map { #"{"channel":"app.w","offset":\#($0),"data":\#($0)}"# }.joined(separator: ",") + "]}}"
        )))
        #expect(out2.publicationOffsets(channel: "app.w") == [13, 14, 15, 16])
        // The first subscriber saw every one of those exactly once too.
        #expect(out.publicationOffsets(channel: "app.w") == Array(7...16))
    }

    // MARK: Recovery

    @Test func recoveryThenLiveWithoutGapOrDuplicate() async throws {
        let f = HubFixture()
        for n in 1...5 { try await f.hub.publish(.number("\(n)"), to: "app.rec", by: .client) }
        let (subscriber, out) = f.session(1, .reader)
        await f.send(subscribeFrame(7, "app.rec", since: StreamPosition(epoch: "ep", offset: 2)), from: subscriber)
        for n in 6...7 { try await f.hub.publish(.number("\(n)"), to: "app.rec", by: .client) }
        #expect(out.messages == [
            try json(
                #"{"id":7,"result":{"channel":"app.rec","epoch":"ep","offset":5,"delivery":"ordered","recovered":true,"publications":["#
                    + #"{"channel":"app.rec","offset":3,"data":3},{"channel":"app.rec","offset":4,"data":4},{"channel":"app.rec","offset":5,"data":5}]}}"#
            ),
            try pub("app.rec", 6, "6"),
            try pub("app.rec", 7, "7"),
        ])
    }

    @Test func recoveryUpToDateAndStale() async throws {
        let f = HubFixture()
        for n in 1...3 { try await f.hub.publish(.number("\(n)"), to: "app.rec", by: .client) }
        let (upToDate, upToDateOut) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "app.rec", since: StreamPosition(epoch: "ep", offset: 3)), from: upToDate)
        let (stale, staleOut) = f.session(2, .reader)
        await f.send(subscribeFrame(2, "app.rec", since: StreamPosition(epoch: "gone-away", offset: 12)), from: stale)
        let (ahead, aheadOut) = f.session(3, .reader)
        await f.send(subscribeFrame(3, "app.rec", since: StreamPosition(epoch: "ep", offset: 9)), from: ahead)
        try await f.hub.publish(.number("4"), to: "app.rec", by: .client)

        #expect(upToDateOut.messages == [
            try json(#"{"id":1,"result":{"channel":"app.rec","epoch":"ep","offset":3,"delivery":"ordered","recovered":true,"publications":[]}}"#),
            try pub("app.rec", 4, "4"),
        ])
        #expect(staleOut.messages == [
            try json(#"{"id":2,"result":{"channel":"app.rec","epoch":"ep","offset":3,"delivery":"ordered","recovered":false,"publications":[]}}"#),
            try pub("app.rec", 4, "4"),
        ])
        #expect(aheadOut.messages == [
            try json(#"{"id":3,"result":{"channel":"app.rec","epoch":"ep","offset":3,"delivery":"ordered","recovered":false,"publications":[]}}"#),
            try pub("app.rec", 4, "4"),
        ])
    }

    @Test func recoveryRacingWithPublishing() async throws {
        let f = HubFixture(registry: longHistoryRegistry)
        let total: UInt64 = 3000
        let publisher = Task {
            for i in 1...total {
                try await f.hub.publish(.number("\(i)"), to: "app.rr", by: .client)
                if i % 64 == 0 { await Task.yield() }
            }
        }
        var subscribers: [(since: UInt64, session: Session, out: RecordingTransport)] = []
        for k in 1...5 {
            while await f.top("app.rr") < UInt64(k) * 400 { await Task.yield() }
            let since = UInt64(k) * 100
            let (session, out) = f.session(UInt64(k), .reader)
            await f.send(subscribeFrame(Int64(k), "app.rr", since: StreamPosition(epoch: "ep", offset: since)), from: session)
            subscribers.append((since, session, out))
        }
        try await publisher.value

        for (since, _, out) in subscribers {
            let reply = try #require(out.messages.first)
            let result = try #require(reply["result"])
            #expect(result["recovered"] == .bool(true))
            guard case .array(let recovered) = result["publications"] else {
                Issue.record("no publications in \(reply)")
                continue
            }
            let top = try #require(result["offset"]?.uint64Value)
            #expect(offsets(recovered) == (since < top ? Array((since + 1)...top) : []))
            let stream = offsets(recovered) + out.publicationOffsets(channel: "app.rr")
            #expect(stream == Array((since + 1)...total), "since \(since), reply at \(top)")
            #expect(out.replies.count == 1)
        }
    }

    // MARK: Latest-value channels

    @Test func latestValueChannel() async throws {
        let f = HubFixture()
        for n in 1...3 { try await f.hub.publish(.number("\(n)"), to: "telemetry.host", by: .server) }
        let (subscriber, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "telemetry.host"), from: subscriber)
        try await f.hub.publish(.number("4"), to: "telemetry.host", by: .server)
        #expect(out.messages == [
            try json(#"{"id":1,"result":{"channel":"telemetry.host","epoch":"ep","offset":3,"delivery":"latest","publication":{"channel":"telemetry.host","offset":3,"data":3}}}"#),
            try pub("telemetry.host", 4, "4"),
        ])
        #expect(out.records.map(\.conflationKey) == [nil, "telemetry.host"])
    }

    @Test func latestValueChannelWithRecoverableSince() async throws {
        let f = HubFixture()
        for n in 1...3 { try await f.hub.publish(.number("\(n)"), to: "telemetry.host", by: .server) }
        let (subscriber, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "telemetry.host", since: StreamPosition(epoch: "ep", offset: 2)), from: subscriber)
        #expect(out.messages == [
            try json(
                #"{"id":1,"result":{"channel":"telemetry.host","epoch":"ep","offset":3,"delivery":"latest","publication":{"channel":"telemetry.host","offset":3,"data":3},"#
                    + #""recovered":true,"publications":[{"channel":"telemetry.host","offset":3,"data":3}]}}"#
            )
        ])
    }

    /// docs/protocol.md: "For latest-value channels the result also carries the newest `publication`".
    @Test func latestValueChannelWithStaleSinceStillCarriesTheNewestPublication() async throws {
        let f = HubFixture()
        for n in 1...3 { try await f.hub.publish(.number("\(n)"), to: "telemetry.host", by: .server) }
        let (subscriber, out) = f.session(1, .reader)
        // A dashboard reconnecting after a server restart: its epoch is gone.
        await f.send(subscribeFrame(1, "telemetry.host", since: StreamPosition(epoch: "before-restart", offset: 40)), from: subscriber)
        let result = try #require(out.messages.first?["result"])
        #expect(result["recovered"] == .bool(false))
        #expect(result["publication"] == (try? pub("telemetry.host", 3, "3")))
    }

    // MARK: Access

    @Test func onlyTheServerPublishesTelemetryHost() async throws {
        let f = HubFixture()
        let admin = Principal(id: "admin-key", scopes: [.admin])
        for principal in [Principal.client, .reader, .nobody, admin] {
            await #expect(throws: ProtocolError(.forbidden, "only the server publishes to 'telemetry.host'")) {
                try await f.hub.publish(.null, to: "telemetry.host", by: principal)
            }
        }
        #expect(await f.broker.channels().isEmpty, "a refused publish must not create channel state")

        let position = try await f.hub.publish(.bool(true), to: "telemetry.host", by: .server)
        #expect(position == StreamPosition(epoch: "ep", offset: 1))

        // Through the dispatcher, a client session gets forbidden; a server session gets a result.
        let (clientSession, clientOut) = f.session(1, .client)
        await f.send(publishFrame(5, "telemetry.host", #"{"fake":true}"#), from: clientSession)
        #expect(clientOut.messages.count == 1)
        #expect(clientOut.messages.first?["id"] == .number("5"))
        #expect(clientOut.messages.first?["error"]?["code"] == .string("forbidden"))
        let (serverSession, serverOut) = f.session(2, .server)
        await f.send(publishFrame(6, "telemetry.host", "2"), from: serverSession)
        #expect(serverOut.messages == [try json(#"{"id":6,"result":{"channel":"telemetry.host","epoch":"ep","offset":2}}"#)])
    }

    @Test func scopesAreChecked() async throws {
        let f = HubFixture()
        await #expect(throws: ProtocolError(.forbidden, "your key or role may not publish to 'app.x'")) {
            try await f.hub.publish(.null, to: "app.x", by: .reader)
        }
        #expect(try await f.hub.publish(.null, to: "app.x", by: Principal(id: "writer", scopes: [.publish])).offset == 1)
        await #expect(throws: ProtocolError(.forbidden, "your key or role may not read 'app.x'")) {
            try await f.hub.history(of: "app.x", limit: nil, for: .nobody)
        }
        let (session, out) = f.session(1, .nobody)
        await f.send(subscribeFrame(3, "app.x"), from: session)
        #expect(out.messages.count == 1)
        #expect(out.messages.first?["id"] == .number("3"))
        #expect(out.messages.first?["error"]?["code"] == .string("forbidden"))
        #expect(session.subscriptionCount == 0)
        #expect(f.hub.subscriberCounts().isEmpty)
    }

    // MARK: Subscription bookkeeping

    @Test func unsubscribeStopsDelivery() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "app.u"), from: session)
        try await f.hub.publish(.number("1"), to: "app.u", by: .client)
        await f.send(#"{"id":2,"op":"unsubscribe","channel":"app.u"}"#, from: session)
        try await f.hub.publish(.number("2"), to: "app.u", by: .client)
        #expect(out.messages == [
            try json(#"{"id":1,"result":{"channel":"app.u","epoch":"ep","offset":0,"delivery":"ordered"}}"#),
            try pub("app.u", 1, "1"),
            try json(#"{"id":2,"result":{}}"#),
        ])
        #expect(f.hub.subscriberCounts().isEmpty)
        #expect(session.subscriptionCount == 0)
        #expect(f.hub.metrics.subscriptions.current == 0)

        // Subscribing again resumes from the current position.
        await f.send(subscribeFrame(3, "app.u"), from: session)
        try await f.hub.publish(.number("3"), to: "app.u", by: .client)
        #expect(Array(out.messages.suffix(2)) == [
            try json(#"{"id":3,"result":{"channel":"app.u","epoch":"ep","offset":2,"delivery":"ordered"}}"#),
            try pub("app.u", 3, "3"),
        ])
    }

    @Test func alreadySubscribedAndNotSubscribed() async throws {
        let f = HubFixture()
        let (session, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "app.d"), from: session)
        await f.send(subscribeFrame(2, "app.d"), from: session)
        await f.send(#"{"id":3,"op":"unsubscribe","channel":"app.other"}"#, from: session)
        try await f.hub.publish(.number("1"), to: "app.d", by: .client)
        let messages = out.messages
        #expect(messages.count == 4)
        #expect(messages[0] == (try json(#"{"id":1,"result":{"channel":"app.d","epoch":"ep","offset":0,"delivery":"ordered"}}"#)))
        #expect(messages[1] == (try json(#"{"id":2,"error":{"code":"already_subscribed","message":"already subscribed to 'app.d'"}}"#)))
        #expect(messages[2] == (try json(#"{"id":3,"error":{"code":"not_subscribed","message":"not subscribed to 'app.other'"}}"#)))
        #expect(messages[3] == (try pub("app.d", 1, "1")), "still exactly one delivery per publication")
        #expect(f.hub.subscriberCounts() == ["app.d": 1])
        #expect(f.hub.metrics.subscriptions.current == 1)
    }

    @Test func tooManySubscriptions() async throws {
        let f = HubFixture(limits: Hub.Limits(maxSubscriptionsPerSession: 2))
        let (session, out) = f.session(1, .reader)
        await f.send(subscribeFrame(1, "app.a"), from: session)
        await f.send(subscribeFrame(2, "app.b"), from: session)
        await f.send(subscribeFrame(3, "app.c"), from: session)
        #expect(out.messages.count == 3)
        #expect(out.messages.last == (try json(#"{"id":3,"error":{"code":"too_many_subscriptions","message":"at most 2 subscriptions per connection"}}"#)))
        #expect(session.subscriptionCount == 2)
        #expect(f.hub.subscriberCounts() == ["app.a": 1, "app.b": 1])
        // The limit is per connection.
        let (other, otherOut) = f.session(2, .reader)
        await f.send(subscribeFrame(1, "app.c"), from: other)
        #expect(otherOut.messages.first?["result"] != nil)
        // Room again after an unsubscribe.
        await f.send(#"{"id":4,"op":"unsubscribe","channel":"app.a"}"#, from: session)
        await f.send(subscribeFrame(5, "app.c"), from: session)
        #expect(out.replies(id: 5).first?["result"]?["channel"] == .string("app.c"))
        #expect(Set(session.channels) == ["app.b", "app.c"])
    }

    @Test func disconnectRemovesAllSubscriptions() async throws {
        let f = HubFixture()
        let (first, firstOut) = f.session(1, .reader)
        let (second, secondOut) = f.session(2, .reader)
        for (i, channel) in ["app.a", "app.b", "telemetry.host"].enumerated() { await f.send(subscribeFrame(Int64(i), channel), from: first) }
        await f.send(subscribeFrame(9, "app.a"), from: second)
        #expect(f.hub.subscriberCounts() == ["app.a": 2, "app.b": 1, "telemetry.host": 1])
        #expect(f.hub.metrics.subscriptions.current == 4)

        await f.hub.disconnect(first)
        #expect(f.hub.subscriberCounts() == ["app.a": 1])
        #expect(first.subscriptionCount == 0)
        #expect(f.hub.metrics.subscriptions.current == 1)
        let before = firstOut.messages.count
        try await f.hub.publish(.number("1"), to: "app.a", by: .client)
        try await f.hub.publish(.number("1"), to: "app.b", by: .client)
        #expect(firstOut.messages.count == before)
        #expect(secondOut.publicationOffsets(channel: "app.a") == [1])

        await f.hub.disconnect(second)
        #expect(f.hub.subscriberCounts().isEmpty)
        #expect(f.hub.metrics.subscriptions.current == 0)
        await f.hub.disconnect(second)  // idempotent
        #expect(f.hub.subscriberCounts().isEmpty)
    }

    @Test func brokerInterestFollowsLocalSubscribers() async throws {
        let broker = InterestRecordingBroker()
        let hub = Hub(registry: .standard, broker: broker)
        let a = Session(id: 1, principal: .reader, transport: RecordingTransport())
        let b = Session(id: 2, principal: .reader, transport: RecordingTransport())
        let reply: @Sendable (DeliveryMode, Recovery) -> OutboundMessage = { _, _ in Replies.result(id: 0) }
        try await hub.subscribe(a, to: "app.i", since: nil, reply: reply)
        try await hub.subscribe(b, to: "app.i", since: nil, reply: reply)
        try await hub.subscribe(b, to: "app.j", since: nil, reply: reply)
        #expect(broker.calls == [.init(true, "app.i"), .init(true, "app.j")])
        try await hub.unsubscribe(a, from: "app.i")
        #expect(broker.calls.count == 2)
        try await hub.unsubscribe(b, from: "app.i")
        #expect(broker.calls.last == .init(false, "app.i"))
        await hub.disconnect(b)
        #expect(broker.calls == [.init(true, "app.i"), .init(true, "app.j"), .init(false, "app.i"), .init(false, "app.j")])
    }

    @Test func brokerFailuresBecomeInternalErrorsAndRollBack() async throws {
        let hub = Hub(registry: .standard, broker: FailingBroker())
        let dispatcher = CommandDispatcher(hub: hub)
        let out = RecordingTransport()
        let session = Session(id: 1, principal: .client, transport: out)
        for frame in [
            #"{"id":1,"op":"subscribe","channel":"app.f"}"#,
            #"{"id":2,"op":"publish","channel":"app.f","data":1}"#,
            #"{"id":3,"op":"history","channel":"app.f"}"#,
        ] {
            await dispatcher.handle(Array(frame.utf8), from: session)
        }
        #expect(out.messages == [
            try json(#"{"id":1,"error":{"code":"internal","message":"broker failed on 'app.f': down"}}"#),
            try json(#"{"id":2,"error":{"code":"internal","message":"broker failed on 'app.f': down"}}"#),
            try json(#"{"id":3,"error":{"code":"internal","message":"broker failed on 'app.f': down"}}"#),
        ])
        #expect(session.subscriptionCount == 0)
        #expect(hub.subscriberCounts().isEmpty)
        #expect(hub.metrics.subscriptions.current == 0)
    }

    // MARK: Session alone

    @Test func sessionHoldsDeliveriesUntilTheReplyAndDropsWhatItCovers() throws {
        let out = RecordingTransport()
        let session = Session(id: 1, principal: .reader, transport: out)
        func publication(_ offset: UInt64, epoch: String = "E", channel: String = "app.q") -> Publication {
            Publication(channel: channel, position: StreamPosition(epoch: epoch, offset: offset), data: Array("\(offset)".utf8), delivery: .ordered)
        }
        #expect(session.beginSubscription("app.q"))
        #expect(!session.beginSubscription("app.q"))
        for offset: UInt64 in [1, 2, 3] { session.deliver(publication(offset)) }
        #expect(out.messages.isEmpty, "nothing may precede the subscribe reply")
        session.completeSubscription("app.q", at: StreamPosition(epoch: "E", offset: 2), reply: Replies.result(id: 1))
        #expect(out.messages == [try json(#"{"id":1,"result":{}}"#), try pub("app.q", 3, "3")])

        session.deliver(publication(3))  // duplicate
        session.deliver(publication(2))  // already covered
        session.deliver(publication(4))
        session.deliver(publication(1, channel: "app.other"))  // not subscribed
        #expect(offsets(out.publications) == [3, 4])
        // A new epoch means the broker lost history: delivered, and followed from there.
        session.deliver(publication(1, epoch: "F"))
        session.deliver(publication(1, epoch: "F"))
        session.deliver(publication(2, epoch: "F"))
        #expect(offsets(out.publications) == [3, 4, 1, 2])

        #expect(session.endSubscription("app.q"))
        #expect(!session.endSubscription("app.q"))
        session.deliver(publication(3, epoch: "F"))
        #expect(out.messages.count == 5)
    }
}

/// Forwards to an in-process broker and records `setInterest` calls.
final class InterestRecordingBroker: Broker, @unchecked Sendable {
    struct Call: Equatable {
        let interested: Bool
        let channel: String
        init(_ interested: Bool, _ channel: String) {
            self.interested = interested
            self.channel = channel
        }
    }

    private let inner = InProcessBroker(makeEpoch: { "ep" })
    private let lock = NSLock()
    private var _calls: [Call] = []
    var calls: [Call] { lock.withLock { _calls } }
    var kind: String { "recording" }

    func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {
        inner.start(deliver: deliver, lost: lost)
    }
    func setInterest(_ interested: Bool, in channel: String) async { lock.withLock { _calls.append(Call(interested, channel)) } }
    func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication {
        try await inner.publish(channel: channel, data: data, policy: policy)
    }
    func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery {
        try await inner.recover(channel: channel, policy: policy, since: since)
    }
    func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery {
        try await inner.history(channel: channel, policy: policy, limit: limit)
    }
    func channels() async -> [String: StreamPosition] { await inner.channels() }
    func health() async -> ComponentHealth { await inner.health() }
}

/// A broker whose every operation fails.
final class FailingBroker: Broker {
    let kind = "failing"
    func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {}
    func setInterest(_ interested: Bool, in channel: String) async {}
    func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication {
        throw BrokerError(channel: channel, reason: "down")
    }
    func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery {
        throw BrokerError(channel: channel, reason: "down")
    }
    func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery {
        throw BrokerError(channel: channel, reason: "down")
    }
    func channels() async -> [String: StreamPosition] { [:] }
    func health() async -> ComponentHealth { ComponentHealth(healthy: false) }
}

/// An in-process broker that publishes to the channel from inside `recover`, before and after
/// reading the position, as a concurrent publisher might.
final class RacingBroker: Broker, @unchecked Sendable {
    private let inner = InProcessBroker(makeEpoch: { "ep" })
    let publishBefore: Int
    let publishAfter: Int
    var kind: String { "racing" }

    init(publishBefore: Int, publishAfter: Int) {
        self.publishBefore = publishBefore
        self.publishAfter = publishAfter
    }

    private func publishNext(_ channel: String, _ policy: ChannelPolicy) async throws(BrokerError) {
        let next = (await inner.channels()[channel]?.offset ?? 0) + 1
        _ = try await inner.publish(channel: channel, data: Array("\(next)".utf8), policy: policy)
    }

    func start(deliver: @escaping @Sendable (Publication) -> Void, lost: @escaping @Sendable (String, String) -> Void) {
        inner.start(deliver: deliver, lost: lost)
    }
    func setInterest(_ interested: Bool, in channel: String) async {}
    func publish(channel: String, data: [UInt8], policy: ChannelPolicy) async throws(BrokerError) -> Publication {
        try await inner.publish(channel: channel, data: data, policy: policy)
    }
    func recover(channel: String, policy: ChannelPolicy, since: StreamPosition?) async throws(BrokerError) -> Recovery {
        for _ in 0..<publishBefore { try await publishNext(channel, policy) }
        let recovery = try await inner.recover(channel: channel, policy: policy, since: since)
        for _ in 0..<publishAfter { try await publishNext(channel, policy) }
        return recovery
    }
    func history(channel: String, policy: ChannelPolicy, limit: Int) async throws(BrokerError) -> Recovery {
        try await inner.history(channel: channel, policy: policy, limit: limit)
    }
    func channels() async -> [String: StreamPosition] { await inner.channels() }
    func health() async -> ComponentHealth { await inner.health() }
}
