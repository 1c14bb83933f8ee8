import Accounts
import Foundation
import Hummingbird
import NIOCore
import Realtime
import Store

/// `/api/v1/keys`: create (the key is in the answer, once), list, revoke. Admins only; every
/// change is written to the audit log.
struct KeyRoutes {
    let keys: APIKeyService
    let audit: any AuditSink
    let authenticator: any Authenticator

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/keys")
        group.post { request, context in try await create(request, context: context) }
        group.get { request, _ in try await list(request) }
        group.delete(":id") { request, context in try await revoke(request, context: context) }
    }

    private func admin(_ request: Request) async throws -> Principal {
        try await request.admin(using: authenticator, to: "managing keys")
    }

    private func create(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await admin(request)
        let value = try await request.jsonObject(expecting: "{\"name\", \"scopes\", \"kind\"?, \"expires_at\"?}")
        guard let name = value["name"]?.stringValue, !name.isEmpty, name.count <= 100 else {
            throw APIError(.badRequest, code: "bad_request", "field 'name' (1-100 characters) is required")
        }
        let kind: APIKeyService.Kind
        switch value["kind"] {
        case nil, .some(.null): kind = .api
        case .some(let v): guard let k = v.stringValue.flatMap(APIKeyService.Kind.init(rawValue:)) else {
                throw APIError(.badRequest, code: "bad_request", "field 'kind' must be \"api\" or \"overlay\"")
            }
            kind = k
        }
        var scopeTexts: [String] = []
        if case .array(let items)? = value["scopes"] {
            for item in items {
                guard let text = item.stringValue else { throw APIError(.badRequest, code: "bad_request", "'scopes' must be strings") }
                scopeTexts.append(text)
            }
        } else if kind == .api {
            throw APIError(.badRequest, code: "bad_request", "field 'scopes' (an array) is required")
        }
        let scopes: [APIScope]
        switch APIScope.parse(scopeTexts) {
        case .success(let parsed): scopes = parsed
        case .failure(let error): throw APIError(.badRequest, code: "bad_request", error.description)
        }
        var expiresAt: Int64?
        if let text = value["expires_at"]?.stringValue {
            guard let milliseconds = Timestamp.milliseconds(rfc3339: text), milliseconds > Clock.nowMilliseconds() else {
                throw APIError(.badRequest, code: "bad_request", "'expires_at' must be a future RFC 3339 time like 2027-01-31T00:00:00Z")
            }
            expiresAt = milliseconds
        }
        let createdBy = principal.credential != nil ? Int64(principal.id.dropFirst("user:".count)) : nil
        let created = try await keys.create(name: name, kind: kind, scopes: scopes, expiresAt: expiresAt, createdBy: createdBy)
        try await audit.append(principal.audit(
            "key.create", target: "key:\(created.record.id) \(name)", from: context.clientAddress,
            details: "\(kind.rawValue): \(scopes.map(\.description).joined(separator: " "))"
        ))
        var w = JSONWriter()
        w.raw("{\"result\":")
        Self.write(created.record, key: created.key, into: &w)
        w.raw("}")
        return .json(w.bytes, status: .created)
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await admin(request)
        var w = JSONWriter()
        w.raw("{\"result\":{\"keys\":[")
        for (i, record) in try await keys.list().enumerated() {
            if i > 0 { w.raw(",") }
            Self.write(record, key: nil, into: &w)
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    private func revoke(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await admin(request)
        guard let id = context.parameters.get("id").flatMap(Int64.init) else {
            throw APIError(.badRequest, code: "bad_request", "the key id must be an integer")
        }
        guard try await keys.revoke(id: id) else {
            throw APIError(.notFound, code: "not_found", "no active key with id \(id)")
        }
        try await audit.append(principal.audit("key.revoke", target: "key:\(id)", from: context.clientAddress))
        return .json(Array("{\"result\":{}}".utf8))
    }

    static func write(_ record: APIKeyRecord, key: String?, into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.integer(record.id)
        w.raw(",\"name\":")
        w.string(record.name)
        w.raw(",\"kind\":")
        w.string(record.kind)
        w.raw(",\"scopes\":[")
        for (i, scope) in record.scopes.split(separator: " ").enumerated() {
            if i > 0 { w.raw(",") }
            w.string(String(scope))
        }
        w.raw("],\"created_at\":")
        w.string(Timestamp.rfc3339(record.createdAt))
        w.raw(",\"expires_at\":")
        if let expires = record.expiresAt { w.string(Timestamp.rfc3339(expires)) } else { w.raw("null") }
        w.raw(",\"revoked_at\":")
        if let revoked = record.revokedAt { w.string(Timestamp.rfc3339(revoked)) } else { w.raw("null") }
        if let key {
            w.raw(",\"key\":")
            w.string(key)
        }
        w.raw("}")
    }
}
