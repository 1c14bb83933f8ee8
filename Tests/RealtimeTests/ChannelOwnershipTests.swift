import Testing
@testable import Realtime

private struct Owners: ChannelOwnership {
    let owners: [String: String]
    func owner(of channel: String) async -> String? { owners[channel] }
}

@Suite("Owner-only channels")
struct ChannelOwnershipTests {
    private static let registry = ChannelRegistry(
        families: [
            ChannelFamily(.prefix("jarvis."), ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: nil, subscribe: .owner, publish: .server))
        ],
        reserved: []
    )

    private func hub(ownership: (any ChannelOwnership)?) -> Hub {
        Hub(registry: Self.registry, broker: InProcessBroker(makeEpoch: { "ep" }), ownership: ownership)
    }

    private func subscribe(_ hub: Hub, _ principal: Principal, _ channel: String) async -> ProtocolError? {
        let session = Session(id: 1, principal: principal, transport: RecordingTransport())
        do {
            try await hub.subscribe(session, to: channel, since: nil) { _, _ in OutboundMessage(json: Array("{}".utf8)) }
            return nil
        } catch {
            return error
        }
    }

    @Test func onlyTheOwnerAndAdminsMayReadAConversation() async throws {
        let hub = hub(ownership: Owners(owners: ["jarvis.c1": "user:1"]))
        let owner = Principal(id: "user:1", scopes: [.read])
        let other = Principal(id: "user:2", scopes: [.read, .publish])
        let admin = Principal(id: "user:9", scopes: [.admin])
        let ownerWithoutRead = Principal(id: "user:1", scopes: [])
        #expect(await subscribe(hub, owner, "jarvis.c1") == nil)
        #expect(await subscribe(hub, admin, "jarvis.c1") == nil)
        #expect(await subscribe(hub, other, "jarvis.c1")?.code == .forbidden)
        #expect(await subscribe(hub, ownerWithoutRead, "jarvis.c1")?.code == .forbidden)
        #expect(await subscribe(hub, owner, "jarvis.unknown")?.code == .forbidden)
        await #expect(throws: ProtocolError.self) { _ = try await hub.history(of: "jarvis.c1", limit: nil, for: other) }
        _ = try await hub.history(of: "jarvis.c1", limit: nil, for: owner)
        // Clients never publish into a conversation; the server does.
        await #expect(throws: ProtocolError.self) { try await hub.publish(.object([]), to: "jarvis.c1", by: owner) }
        try await hub.publish(.object([]), to: "jarvis.c1", by: .server)
    }

    @Test func withoutAnOwnershipResolverOnlyAdminsMayRead() async {
        let hub = hub(ownership: nil)
        #expect(await subscribe(hub, Principal(id: "user:1", scopes: [.read]), "jarvis.c1")?.code == .forbidden)
        #expect(await subscribe(hub, Principal(id: "root", scopes: [.admin]), "jarvis.c1") == nil)
    }
}
