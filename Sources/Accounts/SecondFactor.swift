import Crypto
import Foundation
import Store

/// TOTP second factors and their recovery codes. The TOTP secret is sealed with the server's
/// secret key; a code is accepted once (replays within its 30 s window are refused); recovery
/// codes are stored as digests and each works once.
public struct SecondFactor: Sendable {
    public static let recoveryCodeCount = 10

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidCode
        case alreadyEnabled
        case notEnabled
        case invalidSecret

        public var description: String {
            switch self {
            case .invalidCode: "the code does not match; check the authenticator app's clock and enter the current code"
            case .alreadyEnabled: "two-factor authentication is already on; turn it off first to enrol a new device"
            case .notEnabled: "two-factor authentication is off"
            case .invalidSecret: "the secret must be the base32 text from the setup step"
            }
        }
    }

    let database: any Database
    let users: UserRepository
    let recoveryCodes: RecoveryCodeRepository
    let box: SecretBox

    public init(database: any Database, box: SecretBox) {
        self.database = database
        self.users = UserRepository(database)
        self.recoveryCodes = RecoveryCodeRepository(database)
        self.box = box
    }

    /// A fresh secret for the enrolment step; nothing is stored until `enable` sees a valid code.
    public func proposal(for username: String) -> (secret: String, uri: String) {
        let totp = TOTP(secret: TOTP.generateSecret())
        return (Base32.encode(totp.secret), totp.provisioningURI(account: username))
    }

    /// Turns the second factor on once the user proves their app has the secret; answers the
    /// recovery codes, which are shown once.
    public func enable(user: UserRecord, secret: String, code: String, now: Int64 = Clock.nowMilliseconds()) async throws -> [String] {
        guard user.totpSecret == nil else { throw Failure.alreadyEnabled }
        guard let bytes = Base32.decode(secret.filter { !$0.isWhitespace }), bytes.count >= 10 else { throw Failure.invalidSecret }
        guard let step = TOTP(secret: bytes).matchingStep(code, at: now / 1000) else { throw Failure.invalidCode }
        try await users.setTOTPSecret(try box.seal(bytes, context: Self.context(user.id)), for: user.id)
        _ = try await users.claimTOTPStep(step, for: user.id)
        return try await regenerateRecoveryCodes(userID: user.id)
    }

    public func disable(userID: Int64) async throws {
        try await users.setTOTPSecret(nil, for: userID)
        try await recoveryCodes.deleteAll(userID: userID)
    }

    /// A new set of codes; the previous set stops working.
    public func regenerateRecoveryCodes(userID: Int64) async throws -> [String] {
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.newRecoveryCode() }
        let hashes = codes.map { Self.digest($0, userID: userID) }
        try await database.transaction { tx in try await RecoveryCodeRepository(tx).replace(userID: userID, codeHashes: hashes) }
        return codes
    }

    public func remainingRecoveryCodes(userID: Int64) async throws -> Int {
        try await recoveryCodes.remaining(userID: userID)
    }

    /// Checks a login's second factor: the current TOTP code (once), or an unused recovery code.
    public func verify(user: UserRecord, code: String, now: Int64 = Clock.nowMilliseconds()) async throws -> Bool {
        guard let sealed = user.totpSecret else { return false }
        let compact = code.filter { !$0.isWhitespace }
        if compact.count == 6, compact.allSatisfy(\.isASCII), compact.allSatisfy(\.isNumber) {
            let secret = try box.open(sealed, context: Self.context(user.id))
            guard let step = TOTP(secret: secret).matchingStep(compact, at: now / 1000) else { return false }
            return try await users.claimTOTPStep(step, for: user.id)
        }
        return try await recoveryCodes.use(userID: user.id, codeHash: Self.digest(compact, userID: user.id), at: now)
    }

    static func context(_ userID: Int64) -> String { "totp:\(userID)" }

    /// `xxxx-xxxx-xxxx`: 60 random bits in an alphabet without look-alikes (no 0/o, 1/l/i).
    static func newRecoveryCode() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8..<12])
    }

    /// Dashes and case do not matter when typing a code back.
    static func digest(_ code: String, userID: Int64) -> String {
        let normalized = code.lowercased().filter { $0 != "-" && !$0.isWhitespace }
        return SecretToken.digestHex("recovery:\(userID):\(normalized)")
    }
}
