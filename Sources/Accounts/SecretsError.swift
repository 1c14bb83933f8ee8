/// Why a secret could not be kept or read back. Each case says what to do about it.
public enum SecretsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The value was sealed under a different key, or altered.
    case wrongKey(context: String)
    /// Not something `SecretBox` produced.
    case malformed(context: String)
    /// `NEBULA_SECRET_KEY` is set but is not 32 bytes in base64 or hex.
    case invalidKey(reason: String)
    /// The store holds secrets, but the key file that sealed them is gone.
    case keyFileMissing(path: String)
    /// The key in use does not open the store's secrets.
    case keyMismatch(source: String)
    case keyFileUnusable(path: String, reason: String)

    public var description: String {
        switch self {
        case .wrongKey(let context):
            "secret '\(context)' does not open with the current secret key (sealed under another key, or altered)"
        case .malformed(let context): "secret '\(context)' is not a sealed value"
        case .invalidKey(let reason):
            "NEBULA_SECRET_KEY is not usable: \(reason); give 32 random bytes as base64 or 64 hex digits (e.g. `openssl rand -base64 32`)"
        case .keyFileMissing(let path):
            "the store holds encrypted secrets but the key file \(path) is missing; restore it from a backup or set NEBULA_SECRET_KEY to the key they were sealed with (the secrets cannot be read otherwise; replicas sharing a database all need that same NEBULA_SECRET_KEY)"
        case .keyMismatch(let source):
            "the secret key from \(source) does not open the secrets in the store; use the key they were sealed with (all replicas must share one NEBULA_SECRET_KEY)"
        case .keyFileUnusable(let path, let reason): "the secret key file \(path) is unusable: \(reason)"
        }
    }
}
