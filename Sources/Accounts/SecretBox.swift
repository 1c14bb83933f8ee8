import Crypto
import Foundation

/// AES-256-GCM sealing of what the server must keep secret at rest (integration tokens, TOTP
/// secrets, database credentials). Each value is bound to a context (its name), so a sealed value
/// copied to another row does not open there.
public struct SecretBox: Sendable {
    /// Leads every sealed value, so a later key rotation can tell formats apart.
    static let formatVersion: UInt8 = 1

    /// Raw bytes rather than `SymmetricKey`, which is not `Sendable`.
    private let keyBytes: [UInt8]

    public init(key: SymmetricKey) {
        self.keyBytes = key.withUnsafeBytes { Array($0) }
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
}

// Whoever prints a value holding the box (ServiceLifecycle logs each service at debug level)
// must never see the key.
extension SecretBox: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SecretBox(key: redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension SecretBox {
    /// `version ‖ nonce ‖ ciphertext ‖ tag`, with a fresh random nonce each time.
    public func seal(_ plaintext: [UInt8], context: String) throws(SecretsError) -> [UInt8] {
        do {
            let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
            guard let combined = box.combined else { throw SecretsError.malformed(context: context) }
            return [Self.formatVersion] + Array(combined)
        } catch let error as SecretsError {
            throw error
        } catch {
            throw .malformed(context: context)
        }
    }

    /// The plaintext, or `wrongKey` when the value was sealed under another key (or altered):
    /// GCM's tag makes that certain, so the caller never sees garbage.
    public func open(_ sealed: [UInt8], context: String) throws(SecretsError) -> [UInt8] {
        guard sealed.first == Self.formatVersion, sealed.count >= 1 + 12 + 16 else { throw .malformed(context: context) }
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
        } catch {
            throw .malformed(context: context)
        }
        do {
            return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
        } catch {
            throw .wrongKey(context: context)
        }
    }

    public func seal(_ text: String, context: String) throws(SecretsError) -> [UInt8] {
        try seal(Array(text.utf8), context: context)
    }

    public func openString(_ sealed: [UInt8], context: String) throws(SecretsError) -> String {
        let bytes = try open(sealed, context: context)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed(context: context) }
        return text
    }
}
