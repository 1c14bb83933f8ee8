import Testing
@testable import Realtime

@Suite("ChannelRegistry.standard")
struct ChannelRegistryTests {
    let registry = ChannelRegistry.standard

    private func lookupError(_ name: String) -> ProtocolError? {
        do {
            _ = try registry.family(for: name)
            return nil
        } catch {
            return error
        }
    }

    @Test func telemetryHostIsTheLatestValueFamily() throws {
        let family = try registry.family(for: "telemetry.host")
        #expect(family.pattern == .exact("telemetry.host"))
        #expect(family.policy.delivery == .latest)
        #expect(family.policy.historySize == 1)
        #expect(family.policy.historyTTL == nil)
        #expect(family.policy.subscribe == .read)
        #expect(family.policy.publish == .server)
    }

    @Test("container telemetry: a summary and one detail channel per container, latest-value, server only")
    func containerTelemetry() throws {
        let summary = try registry.family(for: "telemetry.containers")
        #expect(summary.pattern == .exact("telemetry.containers") && summary.policy.delivery == .latest)
        let detail = try registry.family(for: "telemetry.container." + String(repeating: "a", count: 64))
        #expect(detail.pattern == .prefix("telemetry.container.") && detail.policy.delivery == .latest && detail.policy.publish == .server)
        #expect(lookupError("telemetry.container.") != nil)  // a prefix needs at least one more character
    }

    @Test("app.* names map to the app family", arguments: [
        "app.x", "app.deploys", "app.a.b.c", "app.A_b-c:d", "app..", "app.1",
        "app." + String(repeating: "z", count: 124),
    ])
    func appFamily(name: String) throws {
        let family = try registry.family(for: name)
        #expect(family.pattern == .prefix("app."))
        #expect(family.policy.delivery == .ordered)
        #expect(family.policy.historySize == 100)
        #expect(family.policy.historyTTL == .seconds(600))
        #expect(family.policy.subscribe == .read)
        #expect(family.policy.publish == .publish)
    }

    @Test("names matching no family", arguments: ["app.", "app", "App.x", "nope.nothing", "storage.x", "alerts.x", "apps.x", "x"])
    func noFamily(name: String) throws {
        let error = try #require(lookupError(name))
        #expect(error.code == .unknownChannel)
        #expect(error.message == "no channel family matches '\(name)'")
    }

    @Test("reserved names", arguments: [
        ("telemetry.gpu", "telemetry.*"),
        ("telemetry.hostx", "telemetry.*"),
        ("jobs.import", "jobs.*"),
        ("overlay.alerts", "overlay.*"),
        ("jarvis.chat", "jarvis.*"),
        ("bots.discord", "bots.*"),
    ])
    func reserved(name: String, pattern: String) throws {
        let error = try #require(lookupError(name))
        #expect(error.code == .unknownChannel)
        #expect(error.message.contains("reserved"))
        #expect(error.message == "channel '\(name)' is in '\(pattern)', reserved for a coming capability")
    }

    @Test("invalid names", arguments: [
        "",
        String(repeating: "a", count: 129),
        "app." + String(repeating: "z", count: 125),
        "app.with space",
        " app.x",
        "app.x ",
        "app.ü",
        "ü",
        "app.x/y",
        "app.x\n",
        "app.\u{0}",
        "app.😀",
        "app.x*",
    ])
    func invalidName(name: String) throws {
        #expect(ChannelRegistry.isValidName(name) == false)
        let error = try #require(lookupError(name))
        #expect(error.code == .unknownChannel)
        #expect(error.message.hasPrefix("invalid channel name"))
    }

    @Test func validNameCharacters() {
        #expect(ChannelRegistry.isValidName("aZ09._-:"))
        #expect(ChannelRegistry.isValidName(String(repeating: "a", count: 128)))
        #expect(ChannelRegistry.maxNameLength == 128)
    }

    @Test func registeringAFamilyLiftsItsReservation() throws {
        var registry = ChannelRegistry.standard
        #expect(lookupError("jobs.import")?.code == .unknownChannel)
        registry.register(ChannelFamily(
            .prefix("jobs."),
            ChannelPolicy(delivery: .ordered, historySize: 5, historyTTL: nil, subscribe: .read, publish: .server)
        ))
        #expect(!registry.reserved.contains(.prefix("jobs.")))
        let family = try registry.family(for: "jobs.import")
        #expect(family.pattern == .prefix("jobs."))
        #expect(family.policy.historySize == 5)
        // Other reservations stay.
        #expect(throws: ProtocolError.self) { try registry.family(for: "bots.x") }
    }

    @Test func patternDescriptions() {
        #expect(ChannelFamily.Pattern.exact("storage").description == "storage")
        #expect(ChannelFamily.Pattern.prefix("app.").description == "app.*")
    }
}
