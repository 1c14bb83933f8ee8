import Accounts
import Hummingbird
import Realtime
import Store

/// `/api/v1/account`: a signed-in user's own password and second factor. Browser sessions only:
/// an API key is not an account.
struct AccountRoutes {
    let directory: UserDirectory
    let sessions: SessionService
    let secondFactor: SecondFactor
    let authenticator: any Authenticator
    let connections: ConnectionRegistry
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/account")
        group.post("password") { request, context in try await changePassword(request, context: context) }
        group.post("totp/setup") { request, _ in try await proposeTOTP(request) }
        group.post("totp/enable") { request, context in try await enableTOTP(request, context: context) }
        group.post("totp/disable") { request, context in try await disableTOTP(request, context: context) }
        group.post("recovery-codes") { request, context in try await newRecoveryCodes(request, context: context) }
    }

    /// The signed-in user behind a browser session.
    private func account(_ request: Request) async throws -> (principal: Principal, user: UserRecord, session: String) {
        let principal = try await request.principal(using: authenticator)
        guard let session = principal.credential, let id = Int64(principal.id.dropFirst("user:".count)),
            let user = try await directory.find(id: id)
        else { throw APIError(.forbidden, code: "forbidden", "account settings need a signed-in user; API keys are not accounts") }
        return (principal, user, session)
    }

    private func changePassword(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let (principal, user, session) = try await account(request)
        let value = try await request.jsonObject(expecting: "{\"current_password\", \"new_password\"}")
        let current = try value.requiredString("current_password")
        let new = try value.requiredString("new_password")
        do {
            try await recheck(current, of: user)
            try await APIError.mappingAccountFailures { try await directory.changePassword(userID: user.id, to: new, keepingSession: session) }
        } catch let error as APIError {
            try await audit.append(principal.audit("account.password", target: "user:\(user.id)", from: context.clientAddress, outcome: "denied", details: error.code))
            throw error
        }
        connections.close(
            where: { $0.id == principal.id && $0.credential != session }, code: CloseCode.credentialsRevoked, reason: CloseCode.sessionEndedReason
        )
        try await audit.append(principal.audit("account.password", target: "user:\(user.id)", from: context.clientAddress))
        return .emptyResult
    }

    private func proposeTOTP(_ request: Request) async throws -> Response {
        let (_, user, _) = try await account(request)
        guard user.totpSecret == nil else { throw APIError(SecondFactor.Failure.alreadyEnabled) }
        let proposal = secondFactor.proposal(for: user.username)
        var w = JSONWriter()
        w.raw("{\"result\":{\"secret\":")
        w.string(proposal.secret)
        w.raw(",\"otpauth_uri\":")
        w.string(proposal.uri)
        w.raw("}}")
        return .json(w.bytes)
    }

    private func enableTOTP(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let (principal, user, _) = try await account(request)
        let value = try await request.jsonObject(expecting: "{\"secret\", \"code\"}")
        let secret = try value.requiredString("secret")
        let code = try value.requiredString("code")
        let codes: [String]
        do {
            codes = try await APIError.mappingAccountFailures { try await secondFactor.enable(user: user, secret: secret, code: code) }
        } catch let error as APIError {
            try await audit.append(principal.audit("account.totp.enable", target: "user:\(user.id)", from: context.clientAddress, outcome: "denied", details: error.code))
            throw error
        }
        try await audit.append(principal.audit("account.totp.enable", target: "user:\(user.id)", from: context.clientAddress))
        return .json(Self.recoveryCodesBody(codes))
    }

    private func disableTOTP(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let (principal, user, _) = try await account(request)
        try await requirePassword(request, of: user, principal: principal, action: "account.totp.disable", context: context)
        guard user.totpSecret != nil else { throw APIError(SecondFactor.Failure.notEnabled) }
        try await secondFactor.disable(userID: user.id)
        try await audit.append(principal.audit("account.totp.disable", target: "user:\(user.id)", from: context.clientAddress))
        return .emptyResult
    }

    private func newRecoveryCodes(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let (principal, user, _) = try await account(request)
        try await requirePassword(request, of: user, principal: principal, action: "account.recovery-codes", context: context)
        guard user.totpSecret != nil else { throw APIError(SecondFactor.Failure.notEnabled) }
        let codes = try await secondFactor.regenerateRecoveryCodes(userID: user.id)
        try await audit.append(principal.audit("account.recovery-codes", target: "user:\(user.id)", from: context.clientAddress))
        return .json(Self.recoveryCodesBody(codes))
    }

    /// Turning a protection off or re-issuing codes asks for the password again, so an unlocked
    /// browser left open is not enough.
    private func requirePassword(_ request: Request, of user: UserRecord, principal: Principal, action: String, context: NebulaRequestContext) async throws {
        let value = try await request.jsonObject(expecting: "{\"password\"}")
        let password = try value.requiredString("password")
        do {
            try await recheck(password, of: user)
        } catch let error as APIError {
            try await audit.append(principal.audit(action, target: "user:\(user.id)", from: context.clientAddress, outcome: "denied", details: error.code))
            throw error
        }
    }

    private func recheck(_ password: String, of user: UserRecord) async throws {
        switch try sessions.recheckPassword(password, of: user) {
        case .confirmed: return
        case .wrongPassword: throw APIError(UserDirectory.Failure.wrongPassword)
        case .lockedOut(let wait):
            var error = APIError(.tooManyRequests, code: "locked_out", "too many wrong passwords; try again in \((wait + 999) / 1000) s")
            error.retryAfterSeconds = (wait + 999) / 1000
            throw error
        }
    }

    static func recoveryCodesBody(_ codes: [String]) -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"result\":{\"recovery_codes\":[")
        for (i, code) in codes.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(code)
        }
        w.raw("]}}")
        return w.bytes
    }
}

extension Response {
    /// `{"result": {}}`: done, nothing to report.
    static var emptyResult: Response { .json(Array("{\"result\":{}}".utf8)) }
}
