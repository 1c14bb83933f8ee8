import Hummingbird
import NIOCore
import Realtime

/// `/api/v1`: publish over HTTP (same rules as the WebSocket op) and the channel listing.
struct APIRoutes {
    let hub: Hub
    let authenticator: any Authenticator
    let maxBodyBytes: Int

    func register(on router: Router<NebulaRequestContext>) {
        let api = router.group("api/v1")
        api.post("publish") { request, _ in try await publish(request) }
        api.get("channels") { request, _ in try await channels(request) }
    }

    private func publish(_ request: Request) async throws -> Response {
        let principal = try await request.principal(using: authenticator)
        let value = try await request.jsonObject(upTo: maxBodyBytes, expecting: "{\"channel\": ..., \"data\": ...}")
        guard let channel = value["channel"]?.stringValue else {
            throw APIError(.badRequest, code: "bad_request", "field 'channel' (a string) is required")
        }
        guard let data = value["data"] else { throw APIError(.badRequest, code: "bad_request", "field 'data' is required") }
        do {
            let position = try await hub.publish(data, to: channel, by: principal)
            var writer = JSONWriter()
            writer.raw("{\"result\":{\"channel\":")
            writer.string(channel)
            writer.raw(",\"epoch\":")
            writer.string(position.epoch)
            writer.raw(",\"offset\":")
            writer.integer(position.offset)
            writer.raw("}}")
            return .json(writer.bytes)
        } catch {
            throw APIError(error)
        }
    }

    private func channels(_ request: Request) async throws -> Response {
        let principal = try await request.principal(using: authenticator)
        let positions = await hub.broker.channels()
        let subscribers = hub.subscriberCounts()
        var w = JSONWriter()
        w.raw("{\"families\":[")
        for (i, family) in hub.registry.families.enumerated() {
            if i > 0 { w.raw(",") }
            let policy = family.policy
            w.raw("{\"pattern\":")
            w.string(family.pattern.description)
            w.raw(",\"delivery\":")
            w.string(policy.delivery.rawValue)
            w.raw(",\"history_size\":")
            w.integer(policy.historySize)
            w.raw(",\"history_ttl_seconds\":")
            if let ttl = policy.historyTTL { w.integer(ttl.components.seconds) } else { w.raw("null") }
            w.raw(",\"subscribe\":")
            w.string(policy.subscribe.rawValue)
            w.raw(",\"publish\":")
            w.string(policy.publish.rawValue)
            w.raw("}")
        }
        w.raw("],\"reserved\":[")
        for (i, pattern) in hub.registry.reserved.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(pattern.description)
        }
        w.raw("],\"channels\":[")
        // Owner-only channels (Jarvis conversations) are listed only to who may read them.
        var visible: [String] = []
        for name in Set(positions.keys).union(subscribers.keys).sorted() {
            let family = try? hub.registry.family(for: name)
            if family?.policy.subscribe == .owner {
                if await hub.mayRead(name, principal: principal) { visible.append(name) }
            } else {
                visible.append(name)
            }
        }
        for (i, name) in visible.enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"name\":")
            w.string(name)
            w.raw(",\"epoch\":")
            if let position = positions[name] { w.string(position.epoch) } else { w.raw("null") }
            w.raw(",\"offset\":")
            w.integer(positions[name]?.offset ?? 0)
            w.raw(",\"subscribers\":")
            w.integer(subscribers[name] ?? 0)
            w.raw("}")
        }
        w.raw("]}")
        return .json(w.bytes)
    }
}
