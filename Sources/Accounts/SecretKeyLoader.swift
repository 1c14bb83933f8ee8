import Crypto
import Foundation

/// Finds the key that seals secrets at rest: `NEBULA_SECRET_KEY` when set (required when replicas
/// share a database), otherwise `<data-dir>/secret.key`, created with mode 0600 on first start.
public enum SecretKeyLoader {
    public static let fileName = "secret.key"

    public struct Loaded: Sendable {
        public let box: SecretBox
        /// Where the key came from, for messages (never the key itself).
        public let source: String
        public let created: Bool
    }

    /// - Parameter storeHasSecrets: when true, a missing key file is an error rather than a reason
    ///   to create a new key that could never open what is stored.
    public static func load(environmentKey: String?, dataDirectory: URL, storeHasSecrets: Bool) throws(SecretsError) -> Loaded {
        if let text = environmentKey?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            return Loaded(box: SecretBox(key: try parse(text)), source: "NEBULA_SECRET_KEY", created: false)
        }
        let url = dataDirectory.appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: url.path) {
            guard let text = String(data: data, encoding: .utf8) else {
                throw .keyFileUnusable(path: url.path, reason: "not text")
            }
            do {
                return Loaded(box: SecretBox(key: try parse(text.trimmingCharacters(in: .whitespacesAndNewlines))), source: url.path, created: false)
            } catch {
                throw .keyFileUnusable(path: url.path, reason: "\(error)")
            }
        }
        if storeHasSecrets { throw .keyFileMissing(path: url.path) }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Data($0) }.base64EncodedString() + "\n"
        // O_EXCL: never overwrite a key another process just wrote; 0600 from the first byte on.
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .keyFileUnusable(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = encoded.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        guard written == encoded.utf8.count, fsync(fd) == 0 else {
            throw .keyFileUnusable(path: url.path, reason: "could not write: \(String(cString: strerror(errno)))")
        }
        return Loaded(box: SecretBox(key: key), source: url.path, created: true)
    }

    /// 32 bytes as standard or URL-safe base64, or as 64 hex digits.
    static func parse(_ text: String) throws(SecretsError) -> SymmetricKey {
        if text.count == 64, let bytes = hexBytes(text) { return SymmetricKey(data: bytes) }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { throw .invalidKey(reason: "neither base64 nor 64 hex digits") }
        guard data.count == 32 else { throw .invalidKey(reason: "\(data.count) bytes instead of 32") }
        return SymmetricKey(data: data)
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = hexValue(high), let l = hexValue(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes.count == 32 ? bytes : nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
