import Crypto
import Foundation
import _CryptoExtras

/// Hashes passwords with scrypt (memory-hard) and a per-user random salt, encoded as
/// `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` so parameters can grow without breaking
/// stored hashes. Verification compares in constant time.
public struct PasswordHasher: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var n: Int
        public var r: Int
        public var p: Int

        public init(n: Int, r: Int, p: Int) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// 2^15 × 8 × 128 bytes = 32 MiB and ~0.1 s per hash on this machine kind: slow for an
        /// attacker with a stolen table, fine for a login.
        public static let standard = Parameters(n: 1 << 15, r: 8, p: 1)
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformedHash
        case weakPassword(String)

        public var description: String {
            switch self {
            case .malformedHash: "the stored password hash is not in the scrypt$N$r$p$salt$hash format"
            case .weakPassword(let reason): "password refused: \(reason)"
            }
        }
    }

    public static let minimumLength = 10
    public let parameters: Parameters

    public init(parameters: Parameters = .standard) {
        self.parameters = parameters
    }

    public func hash(_ password: String) throws -> String {
        guard password.count >= Self.minimumLength else {
            throw Failure.weakPassword("use at least \(Self.minimumLength) characters")
        }
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        let derived = try derive(password, salt: salt, parameters: parameters)
        return ["scrypt", "\(parameters.n)", "\(parameters.r)", "\(parameters.p)", Data(salt).base64EncodedString(), Data(derived).base64EncodedString()]
            .joined(separator: "$")
    }

    /// True when `password` matches `encoded`; a malformed stored hash is an error, not a "no".
    public func verify(_ password: String, against encoded: String) throws -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "scrypt",
            let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            n > 1, n & (n - 1) == 0, r > 0, p > 0,
            let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]), !expected.isEmpty
        else { throw Failure.malformedHash }
        let derived = try derive(password, salt: Array(salt), parameters: Parameters(n: n, r: r, p: p), length: expected.count)
        var difference: UInt8 = 0
        for (a, b) in zip(derived, expected) { difference |= a ^ b }
        return difference == 0 && derived.count == expected.count
    }

    /// Whether a stored hash uses weaker parameters than today's and should be rehashed at login.
    public func needsRehash(_ encoded: String) -> Bool {
        let parts = encoded.split(separator: "$").map(String.init)
        guard parts.count == 6, let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]) else { return true }
        return Parameters(n: n, r: r, p: p) != parameters
    }

    private func derive(_ password: String, salt: [UInt8], parameters: Parameters, length: Int = 32) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length,
            rounds: parameters.n, blockSize: parameters.r, parallelism: parameters.p,
            maxMemory: 128 * parameters.n * parameters.r * parameters.p + (1 << 20)
        )
        return key.withUnsafeBytes { Array($0) }
    }
}
