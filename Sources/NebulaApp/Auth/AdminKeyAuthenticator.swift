import Crypto
import Foundation
import Realtime

/// Accepts exactly one key: the admin key from `NEBULA_API_KEY` or the one generated on first start.
/// Only its SHA-256 is kept; keys are 256-bit random values, so a fast hash is enough, and
/// digests are compared in constant time.
struct AdminKeyAuthenticator: Authenticator {
    let keyDigest: [UInt8]

    init(keyDigest: [UInt8]) {
        self.keyDigest = keyDigest
    }

    init(key: String) {
        self.keyDigest = Self.digest(of: key)
    }

    static func digest(of key: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(key.utf8)))
    }

    func authenticate(_ credentials: Credentials) async -> Principal? {
        guard let token = credentials.token, !token.isEmpty else { return nil }
        let candidate = Self.digest(of: token)
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, keyDigest) { difference |= a ^ b }
        guard difference == 0, candidate.count == keyDigest.count else { return nil }
        return Principal(id: "admin-key", scopes: [.admin])
    }
}
