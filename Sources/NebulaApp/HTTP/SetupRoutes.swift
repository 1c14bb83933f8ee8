import Accounts
import Hummingbird
import Realtime
import Store

/// `/api/v1/setup`: the first admin account, created from the dashboard with the one-time token
/// printed at start-up while no account exists. The new admin is logged in at once.
struct SetupRoutes {
    let directory: UserDirectory
    let sessions: SessionService
    let setupToken: SetupToken
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/setup")
        group.get { _, _ in try await status() }
        group.post { request, context in try await create(request, context: context) }
    }

    private func status() async throws -> Response {
        let needed = try await directory.count() == 0
        return .json(Array("{\"result\":{\"needed\":\(needed)}}".utf8))
    }

    private func create(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        guard try await directory.count() == 0 else {
            throw APIError(.conflict, code: "setup_done", "an account exists already; log in, or ask an admin for an account")
        }
        let value = try await request.jsonObject(expecting: "{\"token\", \"username\", \"password\"}")
        let token = try value.requiredString("token")
        let username = try value.requiredString("username")
        let password = try value.requiredString("password")
        guard setupToken.claim(token) else {
            try await audit.append(AuditEntry(actor: username, action: "setup", clientAddress: context.clientAddress, outcome: "denied", details: "wrong setup token"))
            throw APIError(.unauthorized, code: "unauthorized", "wrong setup token: use the link printed when the server started")
        }
        let user: UserRecord
        do {
            user = try await APIError.mappingAccountFailures { try await directory.create(username: username, password: password, role: .admin) }
        } catch {
            setupToken.restore(token)
            throw error
        }
        let (sessionToken, csrf) = try await sessions.start(for: user, clientAddress: context.clientAddress)
        try await audit.append(AuditEntry(actor: username, action: "setup", target: "user:\(user.id)", clientAddress: context.clientAddress, outcome: "ok", details: "first admin account"))
        return AuthRoutes.sessionResponse(
            user: user, token: sessionToken, csrfToken: csrf, request: request, maxAgeMilliseconds: sessions.policy.absolute, status: .created
        )
    }
}
