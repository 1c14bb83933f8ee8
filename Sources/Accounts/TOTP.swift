import Crypto
import Foundation

/// RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s steps, 6 digits — what authenticator
/// apps expect), with the secret shown to the user in base32 (RFC 4648).
public struct TOTP: Sendable {
    public let secret: [UInt8]
    public let digits: Int
    public let step: Int64

    public init(secret: [UInt8], digits: Int = 6, step: Int64 = 30) {
        self.secret = secret
        self.digits = digits
        self.step = step
    }

    /// A new random 160-bit secret.
    public static func generateSecret() -> [UInt8] {
        (0..<20).map { _ in UInt8.random(in: 0...255) }
    }

    /// The code for a Unix time in seconds.
    public func code(at unixTime: Int64) -> String {
        let counter = UInt64(unixTime / step)
        var message = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { message[7 - i] = UInt8((counter >> (8 * UInt64(i))) & 0xFF) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// Accepts the current step and one either side (clock drift), compared in constant time.
    public func verify(_ candidate: String, at unixTime: Int64) -> Bool {
        matchingStep(candidate, at: unixTime) != nil
    }

    /// The time step whose code `candidate` is (current or one either side), for the replay guard;
    /// every step is compared, in constant time, whatever matches.
    public func matchingStep(_ candidate: String, at unixTime: Int64) -> Int64? {
        let candidate = candidate.filter { !$0.isWhitespace }
        var matched: Int64?
        for drift in [-1, 0, 1] as [Int64] {
            let expected = code(at: unixTime + drift * step)
            var difference: UInt8 = expected.utf8.count == candidate.utf8.count ? 0 : 1
            for (a, b) in zip(expected.utf8, candidate.utf8) { difference |= a ^ b }
            if difference == 0 { matched = unixTime / step + drift }
        }
        return matched
    }

    /// `otpauth://` URI for authenticator apps (shown as a QR code by the dashboard).
    public func provisioningURI(account: String, issuer: String = "Nebula Command") -> String {
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        let label = encode(issuer) + ":" + encode(account)
        let issuerParameter = issuer.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? issuer
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(issuerParameter)&digits=\(digits)&period=\(step)"
    }
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var output = [UInt8]()
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: "=") && character != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> UInt32(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}
