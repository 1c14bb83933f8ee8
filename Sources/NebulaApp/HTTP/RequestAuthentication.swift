import HTTPTypes
import Hummingbird
import Realtime

extension Request {
    /// The principal behind this request, or the contract's 401.
    func principal(using authenticator: any Authenticator) async throws -> Principal {
        var credentials = Credentials(authorization: headers[.authorization], uri: uri.description)
        credentials.addBrowserContext(
            cookie: headers[.cookie], csrfToken: headers[HTTPField.Name("X-CSRF-Token")!], origin: headers[.origin],
            host: head.authority, method: method.rawValue, isWebSocket: false
        )
        guard let principal = await authenticator.authenticate(credentials) else {
            if credentials.sessionToken != nil, credentials.token == nil {
                throw APIError(
                    .unauthorized, code: "unauthorized",
                    credentials.changesState
                        ? "not signed in, or this request lacks the session's X-CSRF-Token header (state-changing requests need it)"
                        : "not signed in (the session ended or expired)"
                )
            }
            throw APIError.unauthorized
        }
        return principal
    }
}
