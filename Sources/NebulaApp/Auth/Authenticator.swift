import Foundation
import Realtime

/// Turns a request's credentials into a principal. The single admin key today; accounts, scoped
/// API keys and session cookies (issue 3) arrive as further implementations.
protocol Authenticator: Sendable {
    func authenticate(_ credentials: Credentials) async -> Principal?
}

/// The credentials a request carries, from any of the places the contract allows.
struct Credentials: Sendable {
    var bearer: String?
    var queryToken: String?

    /// The token to check: the header wins over the query string.
    var token: String? { bearer ?? queryToken }

    init(bearer: String? = nil, queryToken: String? = nil) {
        self.bearer = bearer
        self.queryToken = queryToken
    }

    init(authorization: String?, uri: String?) {
        let path = uri
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                bearer = String(parts[1]).trimmingCharacters(in: .whitespaces)
            }
        }
        if let path, let query = path.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "token" {
                    queryToken = String(kv[1]).removingPercentEncoding ?? String(kv[1])
                    break
                }
            }
        }
    }
}
