import Accounts
import Foundation

/// Where the admin key comes from: the environment, or a key generated once whose hash lives in
/// the data dir (`admin-key.sha256`, mode 0600). The key itself is never written anywhere.
struct AdminKeyStore {
    enum Source: Equatable {
        case environment
        case stored
        /// Generated now; the caller prints it once.
        case generated(String)
    }

    enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)
        case corrupt(path: String)

        var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read the admin key hash at \(path): \(reason)"
            case .unwritable(let path, let reason): "cannot store the admin key hash at \(path): \(reason)"
            case .corrupt(let path): "\(path) does not hold a SHA-256 hex digest; remove it to generate a new key"
            }
        }
    }

    static let fileName = "admin-key.sha256"

    let dataDirectory: URL

    func load(environmentKey: String?) throws(Failure) -> (AdminKeyAuthenticator, Source) {
        if let key = environmentKey, !key.isEmpty {
            return (AdminKeyAuthenticator(key: key), .environment)
        }
        let path = dataDirectory.appendingPathComponent(Self.fileName).path
        if FileManager.default.fileExists(atPath: path) {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw .unreadable(path: path, reason: "\(error.localizedDescription)")
            }
            guard let digest = Self.decodeHex(text.trimmingCharacters(in: .whitespacesAndNewlines)), digest.count == 32 else {
                throw .corrupt(path: path)
            }
            return (AdminKeyAuthenticator(keyDigest: digest), .stored)
        }
        let key = Self.generateKey()
        let digest = AdminKeyAuthenticator.digest(of: key)
        let hex = digest.map { String(format: "%02x", $0) }.joined() + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw .unwritable(path: path, reason: "could not create the file")
        }
        return (AdminKeyAuthenticator(keyDigest: digest), .generated(key))
    }

    static func generateKey() -> String {
        SecretToken.generate(prefix: "nbk_")
    }

    static func decodeHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = 0
        while index < chars.count {
            guard let byte = UInt8(String(decoding: chars[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}
