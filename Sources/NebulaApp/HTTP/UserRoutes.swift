import Accounts
import Hummingbird
import Realtime
import Store

/// `/api/v1/users`: accounts, managed by admins. Changes that alter what a user may do end that
/// user's sessions and close their WebSockets at once.
struct UserRoutes {
    let directory: UserDirectory
    let authenticator: any Authenticator
    let connections: ConnectionRegistry
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/users")
        group.get { request, _ in try await list(request) }
        group.post { request, context in try await create(request, context: context) }
        group.patch(":id") { request, context in try await update(request, context: context) }
        group.delete(":id") { request, context in try await delete(request, context: context) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await request.admin(using: authenticator, to: "listing users")
        var w = JSONWriter()
        w.raw("{\"result\":{\"users\":[")
        for (i, user) in try await directory.all().enumerated() {
            if i > 0 { w.raw(",") }
            user.writeJSON(into: &w)
        }
        w.raw("]}}")
        return .json(w.bytes)
    }

    private func create(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "creating users")
        let value = try await request.jsonObject(expecting: "{\"username\", \"password\", \"role\"}")
        let username = try value.requiredString("username")
        let password = try value.requiredString("password")
        let role = try Self.role(try value.requiredString("role"))
        let user = try await APIError.mappingAccountFailures { try await directory.create(username: username, password: password, role: role) }
        try await audit.append(principal.audit("user.create", target: Self.target(user), from: context.clientAddress, details: "role \(role.rawValue)"))
        return .json(Self.userBody(user), status: .created)
    }

    private func update(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "changing users")
        let id = try Self.id(context)
        let value = try await request.jsonObject(expecting: "{\"role\"?, \"disabled\"?, \"password\"?, \"totp_enabled\": false?}")
        var change = UserDirectory.Change()
        change.role = try value.optionalString("role").map(Self.role)
        change.disabled = try value.optionalBool("disabled")
        change.password = try value.optionalString("password")
        switch try value.optionalBool("totp_enabled") {
        case nil: break
        case false?: change.removeSecondFactor = true
        case true?: throw APIError(.badRequest, code: "bad_request", "an admin can only turn a user's 2FA off; the user enrols it themselves")
        }
        let (user, sessionsEnded) = try await APIError.mappingAccountFailures { try await directory.update(id: id, change) }
        if sessionsEnded {
            connections.close(where: { $0.id == "user:\(id)" }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason)
        }
        var details: [String] = []
        if let role = change.role { details.append("role \(role.rawValue)") }
        if let disabled = change.disabled { details.append(disabled ? "disabled" : "enabled") }
        if change.password != nil { details.append("password reset") }
        if change.removeSecondFactor { details.append("2FA removed") }
        try await audit.append(principal.audit("user.update", target: Self.target(user), from: context.clientAddress, details: details.joined(separator: ", ")))
        return .json(Self.userBody(user))
    }

    private func delete(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "deleting users")
        let id = try Self.id(context)
        let user = try await APIError.mappingAccountFailures { try await directory.delete(id: id) }
        connections.close(where: { $0.id == "user:\(id)" }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason)
        try await audit.append(principal.audit("user.delete", target: Self.target(user), from: context.clientAddress))
        return .emptyResult
    }

    static func id(_ context: NebulaRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap(Int64.init) else {
            throw APIError(.badRequest, code: "bad_request", "the user id must be an integer")
        }
        return id
    }

    static func role(_ text: String) throws -> Role {
        guard let role = Role(rawValue: text) else {
            throw APIError(.badRequest, code: "bad_request", "'role' must be admin, operator or viewer")
        }
        return role
    }

    static func target(_ user: UserRecord) -> String { "user:\(user.id) \(user.username)" }

    static func userBody(_ user: UserRecord) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"result\":{\"user\":")
        user.writeJSON(into: &w)
        w.raw("}}")
        return w.bytes
    }
}
