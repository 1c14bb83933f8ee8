import Dispatch
import Realtime

#if canImport(Glibc)
import Glibc
#endif

/// `dns_resolve`: the addresses a host name resolves to here, as the server sees them (the
/// system resolver: /etc/hosts, then DNS).
public struct DNSResolveTool: JarvisTool {
    public init() {}

    public let name = "dns_resolve"
    public let description = "Resolve a host name to its IPv4 and IPv6 addresses with the server's resolver."
    public let tier = ToolTier.diagnose
    public var parameters: JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object([("name", .object([("type", .string("string")), ("description", .string("host name, e.g. nas.lan"))]))])),
            ("required", .array([.string("name")])),
        ])
    }

    public func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let host = try arguments.toolString("name")
        guard host.utf8.count <= 253, !host.contains(where: { $0 == " " || $0 == "/" }) else {
            throw ToolError(.badArguments, "'\(host)' is not a host name")
        }
        let started = ContinuousClock.now
        let outcome = await Self.resolve(host)
        let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
        switch outcome {
        case .success(let addresses):
            return .object([
                ("name", .string(host)),
                ("addresses", .array(addresses.map(JSONValue.string))),
                ("resolve_ms", .number(String(milliseconds))),
            ])
        case .failure(let message):
            throw ToolError(.failed, "cannot resolve '\(host)': \(message)")
        }
    }

    private enum Outcome: Sendable {
        case success([String])
        case failure(String)
    }

    /// getaddrinfo blocks, so it runs on a dispatch thread, never on an event loop or the
    /// cooperative pool.
    private static func resolve(_ host: String) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &result)
                guard status == 0 else {
                    continuation.resume(returning: .failure(String(cString: gai_strerror(status))))
                    return
                }
                defer { freeaddrinfo(result) }
                var addresses: [String] = []
                var cursor = result
                while let entry = cursor {
                    var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                        let address = String(cString: text)
                        if !addresses.contains(address) { addresses.append(address) }
                    }
                    cursor = entry.pointee.ai_next
                }
                continuation.resume(returning: .success(addresses))
            }
        }
    }
}
