import Accounts
import Hummingbird
import Realtime
import Store

/// `/api/v1/secrets`: integration secrets, encrypted at rest. Admins write and delete them; the
/// API never reads a value back.
struct SecretRoutes {
    let vault: SecretVault
    let authenticator: any Authenticator
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/secrets")
        group.get { request, _ in try await list(request) }
        group.put(":name") { request, context in try await put(request, context: context) }
        group.delete(":name") { request, context in try await delete(request, context: context) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await request.admin(using: authenticator, to: "listing secrets")
        var w = JSONWriter()
        w.raw("{\"result\":{\"secrets\":[")
        for (i, entry) in try await vault.list().enumerated() {
            if i > 0 { w.raw(",") }
            Self.write(entry.name, entry.updatedAt, into: &w)
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    private func put(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "storing secrets")
        let name = try Self.name(context)
        let value = try await request.jsonObject(upTo: 64 * 1024, expecting: "{\"value\": \"...\"}")
        let secret = try value.requiredString("value")
        let now = Clock.nowMilliseconds()
        try await vault.put(name: name, value: secret, at: now)
        try await audit.append(principal.audit("secret.put", target: name, from: context.clientAddress))
        var w = JSONWriter()
        w.raw("{\"result\":")
        Self.write(name, now, into: &w)
        w.raw("}")
        return .json(w.bytes)
    }

    private func delete(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "deleting secrets")
        let name = try Self.name(context)
        guard try await vault.delete(name: name) else { throw APIError(.notFound, code: "not_found", "no secret named '\(name)'") }
        try await audit.append(principal.audit("secret.delete", target: name, from: context.clientAddress))
        return .emptyResult
    }

    static func name(_ context: NebulaRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), SecretVault.isValidName(name) else {
            throw APIError(.badRequest, code: "bad_request", "a secret name is 1-128 characters of A-Z a-z 0-9 . _ - and does not start with _")
        }
        return name
    }

    static func write(_ name: String, _ updatedAt: Int64, into w: inout JSONWriter) {
        w.raw("{\"name\":")
        w.string(name)
        w.raw(",\"updated_at\":")
        w.string(Timestamp.rfc3339(updatedAt))
        w.raw("}")
    }
}
