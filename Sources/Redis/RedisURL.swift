import Foundation

/// Where Redis is, from `--redis-url redis://[user:password@]host[:port][/db]` (`rediss://` for TLS,
/// with `?ca=/path/ca.pem` when the server's certificate is not signed by a system-trusted CA).
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    public var username: String?
    public var password: String?
    public var tls: Bool
    public var caFile: String?

    public init(host: String, port: Int = 6379, database: Int = 0, tls: Bool = false) {
        self.host = host
        self.port = port
        self.database = database
        self.tls = tls
    }

    /// Nil when the text is not a redis:// or rediss:// URL with a host, a valid port and a database number.
    public init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "redis" || scheme == "rediss", let host = components.host, !host.isEmpty
        else { return nil }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard path.isEmpty || Int(path).map({ $0 >= 0 }) == true else { return nil }
        if let port = components.port, !(1...65535).contains(port) { return nil }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 6379
        database = Int(path) ?? 0
        username = components.user?.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        password = components.password?.removingPercentEncoding
        tls = scheme == "rediss"
        caFile = components.queryItems?.first { $0.name == "ca" }?.value.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// For logs: never the password.
    public var description: String {
        "\(tls ? "rediss" : "redis")://\(host):\(port)/\(database)"
    }
}
