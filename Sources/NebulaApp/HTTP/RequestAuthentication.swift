import Hummingbird
import Realtime

extension Request {
    /// The principal behind this request, or the contract's 401.
    func principal(using authenticator: any Authenticator) async throws -> Principal {
        let credentials = Credentials(authorization: headers[.authorization], uri: uri.description)
        guard let principal = await authenticator.authenticate(credentials) else { throw APIError.unauthorized }
        return principal
    }
}
