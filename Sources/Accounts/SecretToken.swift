import Crypto
import Foundation

/// Random bearer secrets (keys, session tokens) and the digests the store keeps of them. One place,
/// so every secret has the same strength and encoding.
public enum SecretToken {
    /// 256 random bits, base64url without padding, after an optional recognisable prefix (`nbk_`).
    public static func generate(prefix: String = "") -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return prefix + bytes.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 of the token, hex: what is stored instead of the token. A fast hash is right here:
    /// the tokens are random, not guessable passwords.
    public static func digestHex(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
