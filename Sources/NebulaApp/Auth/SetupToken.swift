import Accounts
import NIOConcurrencyHelpers

/// The one-time token that lets the owner create the first admin account from the dashboard.
/// It exists only while there are no accounts; only its digest is held, in memory.
final class SetupToken: Sendable {
    private let digest: NIOLockedValueBox<String?>

    /// A new token (to print once) and its holder.
    static func generate() -> (token: String, holder: SetupToken) {
        let token = SecretToken.generate()
        return (token, SetupToken(digest: SecretToken.digestHex(token)))
    }

    init(digest: String?) {
        self.digest = NIOLockedValueBox(digest)
    }

    /// Consumes the token if `candidate` is it, so two racing requests cannot both create an admin.
    func claim(_ candidate: String) -> Bool {
        let candidateDigest = SecretToken.digestHex(candidate)
        return digest.withLockedValue { current in
            guard let expected = current, Self.constantTimeEqual(expected, candidateDigest) else { return false }
            current = nil
            return true
        }
    }

    /// Puts a claimed token back when the account could not be created (a weak password, say).
    func restore(_ token: String) {
        digest.withLockedValue { $0 = SecretToken.digestHex(token) }
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a.utf8, b.utf8) { difference |= x ^ y }
        return difference == 0
    }
}
