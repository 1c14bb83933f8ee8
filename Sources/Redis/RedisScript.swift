import Crypto

/// A Lua script sent by its SHA-1 digest (EVALSHA), so the text crosses the network only when the
/// server does not know it yet (first use, restart, SCRIPT FLUSH).
public struct RedisScript: Sendable {
    public let source: String
    public let digest: String

    public init(_ source: String) {
        self.source = source
        digest = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
    }

    /// One round trip when the server has the script, two when it has to learn it.
    public func evaluate(on sender: any RedisCommandSender, keys: [String], arguments: [[UInt8]]) async throws(RedisError) -> RESPValue {
        let tail = [Array("\(keys.count)".utf8)] + keys.map { Array($0.utf8) } + arguments
        do {
            return try await sender.send(RESPCommand("EVALSHA", [Array(digest.utf8)] + tail))
        } catch {
            guard case .server(_, let message) = error, message.hasPrefix("NOSCRIPT") else { throw error }
            return try await sender.send(RESPCommand("EVAL", [Array(source.utf8)] + tail))
        }
    }
}
