import Testing
import Foundation

@testable import Accounts

@Suite("Passwords")
struct PasswordHasherTests {
    // Small parameters keep the suite fast; the format and the comparison are what is tested.
    let hasher = PasswordHasher(parameters: .init(n: 1 << 10, r: 8, p: 1))

    @Test("hash then verify; wrong passwords fail; salts differ")
    func roundTrip() throws {
        let first = try hasher.hash("correct horse battery")
        let second = try hasher.hash("correct horse battery")
        #expect(first != second)
        #expect(first.hasPrefix("scrypt$1024$8$1$"))
        #expect(try hasher.verify("correct horse battery", against: first))
        #expect(try !hasher.verify("correct horse battery!", against: first))
        #expect(try !hasher.verify("", against: first))
        #expect(!first.contains("correct"))
    }

    @Test("short passwords and malformed hashes are refused clearly")
    func refusals() throws {
        #expect(throws: PasswordHasher.Failure.weakPassword("use at least 10 characters")) { try hasher.hash("short") }
        for bad in ["", "scrypt$", "bcrypt$1024$8$1$AAAA$AAAA", "scrypt$1000$8$1$AAAA$AAAA", "scrypt$1024$8$1$!!$AAAA"] {
            #expect(throws: PasswordHasher.Failure.malformedHash) { try hasher.verify("whatever-long", against: bad) }
        }
    }

    @Test("weaker stored parameters ask for a rehash")
    func rehash() throws {
        let old = try hasher.hash("correct horse battery")
        #expect(!hasher.needsRehash(old))
        #expect(PasswordHasher().needsRehash(old))
    }
}

@Suite("TOTP (RFC 6238)")
struct TOTPTests {
    // RFC 6238 appendix B, SHA-1, 8 digits, secret "12345678901234567890".
    static let vectors: [(Int64, String)] = [
        (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
    ]

    @Test("the RFC's test vectors")
    func vectors() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8), digits: 8)
        for (time, code) in Self.vectors {
            #expect(totp.code(at: time) == code, "t=\(time)")
        }
    }

    @Test("verify accepts one step of drift, not two, and ignores spaces")
    func drift() {
        let totp = TOTP(secret: TOTP.generateSecret())
        let now: Int64 = 1_732_200_000
        #expect(totp.verify(totp.code(at: now), at: now))
        #expect(totp.verify(totp.code(at: now - 30), at: now))
        #expect(totp.verify(totp.code(at: now + 30), at: now))
        #expect(!totp.verify(totp.code(at: now - 90), at: now))
        let code = totp.code(at: now)
        #expect(totp.verify(String(code.prefix(3)) + " " + String(code.suffix(3)), at: now))
        #expect(!totp.verify("", at: now))
        #expect(!totp.verify("12345", at: now))
    }

    @Test("base32 round-trips and the URI carries the secret")
    func base32() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("MZXW6YTBOI") == Array("foobar".utf8))
        let secret = TOTP.generateSecret()
        #expect(Base32.decode(Base32.encode(secret)) == secret)
        let uri = TOTP(secret: secret).provisioningURI(account: "ann")
        #expect(uri.hasPrefix("otpauth://totp/Nebula%20Command:ann?secret=\(Base32.encode(secret))"))
    }

    @Test("roles are ordered")
    func roles() {
        #expect(Role.admin.allows(.operator) && Role.operator.allows(.viewer) && !Role.viewer.allows(.operator))
    }
}

@Suite("Login throttle")
struct LoginThrottleTests {
    @Test("free attempts, then doubling lockouts, capped; success resets")
    func lockouts() {
        let throttle = LoginThrottle(configuration: .init(freeAttempts: 3, baseLockoutMilliseconds: 1_000, maxLockoutMilliseconds: 4_000))
        #expect(throttle.fail("user:ann", now: 0) == nil)
        #expect(throttle.fail("user:ann", now: 1) == nil)
        #expect(throttle.retryAfter("user:ann", now: 2) == nil)
        #expect(throttle.fail("user:ann", now: 2) == 1_000)
        #expect(throttle.retryAfter("user:ann", now: 500) == 502)
        #expect(throttle.retryAfter("user:ann", now: 1_002) == nil)
        #expect(throttle.fail("user:ann", now: 1_002) == 2_000)
        #expect(throttle.fail("user:ann", now: 3_002) == 4_000)
        #expect(throttle.fail("user:ann", now: 7_002) == 4_000)
        #expect(throttle.retryAfter("ip:10.0.0.1", now: 0) == nil)
        throttle.succeed("user:ann")
        #expect(throttle.retryAfter("user:ann", now: 7_003) == nil)
        #expect(throttle.fail("user:ann", now: 7_003) == nil)
    }
}

@Suite("Secrets at rest")
struct SecretBoxTests {
    let box = SecretBox(key: .init(size: .bits256))

    @Test("seal then open; fresh nonce each time; bound to its context")
    func roundTrip() throws {
        let first = try box.seal("webhook-url", context: "secret:a")
        let second = try box.seal("webhook-url", context: "secret:a")
        #expect(first != second)
        #expect(try box.openString(first, context: "secret:a") == "webhook-url")
        #expect(throws: SecretsError.wrongKey(context: "secret:b")) { try box.open(first, context: "secret:b") }
    }

    @Test("another key or a flipped bit is an error, never garbage")
    func wrongKey() throws {
        var sealed = try box.seal("token", context: "c")
        #expect(throws: SecretsError.wrongKey(context: "c")) { try SecretBox(key: .init(size: .bits256)).open(sealed, context: "c") }
        sealed[sealed.count / 2] ^= 1
        #expect(throws: SecretsError.wrongKey(context: "c")) { try box.open(sealed, context: "c") }
        #expect(throws: SecretsError.malformed(context: "c")) { try box.open([1, 2, 3], context: "c") }
        #expect(throws: SecretsError.malformed(context: "c")) { try box.open([9] + Array(repeating: 0, count: 40), context: "c") }
    }

    @Test("keys from NEBULA_SECRET_KEY: base64, base64url or hex of 32 bytes")
    func keyParsing() throws {
        let bytes = (0..<32).map { UInt8($0 * 7 % 256) }
        let base64 = Data(bytes).base64EncodedString()
        let url = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let sealed = try SecretBox(key: SecretKeyLoader.parse(base64)).seal("x", context: "k")
        for text in [url, hex, hex.uppercased()] {
            #expect(try SecretBox(key: SecretKeyLoader.parse(text)).openString(sealed, context: "k") == "x")
        }
        #expect(throws: SecretsError.invalidKey(reason: "16 bytes instead of 32")) { try SecretKeyLoader.parse(Data(bytes[..<16]).base64EncodedString()) }
        #expect(throws: SecretsError.self) { try SecretKeyLoader.parse("not a key at all!") }
    }

    @Test("a key file is created once, mode 0600, and read back the next time")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try SecretKeyLoader.load(environmentKey: nil, dataDirectory: directory, storeHasSecrets: false)
        #expect(first.created)
        let path = directory.appendingPathComponent(SecretKeyLoader.fileName).path
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let second = try SecretKeyLoader.load(environmentKey: nil, dataDirectory: directory, storeHasSecrets: true)
        #expect(!second.created)
        #expect(try second.box.openString(try first.box.seal("same key", context: "k"), context: "k") == "same key")
        let fromEnvironment = try SecretKeyLoader.load(environmentKey: "  " + String(repeating: "0f", count: 32) + "\n", dataDirectory: directory, storeHasSecrets: true)
        #expect(fromEnvironment.source == "NEBULA_SECRET_KEY" && !fromEnvironment.created)
    }
}

@Suite("Recovery codes")
struct RecoveryCodeFormatTests {
    @Test("xxxx-xxxx-xxxx without look-alike characters; digests ignore case and dashes")
    func format() {
        let codes = (0..<200).map { _ in SecondFactor.newRecoveryCode() }
        #expect(Set(codes).count == codes.count)
        for code in codes {
            #expect(code.wholeMatch(of: /[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}/) != nil)
        }
        #expect(SecondFactor.digest("ABCD-efgh-2345", userID: 1) == SecondFactor.digest("abcd efgh 2345", userID: 1))
        #expect(SecondFactor.digest("abcd-efgh-2345", userID: 1) != SecondFactor.digest("abcd-efgh-2345", userID: 2))
    }
}
