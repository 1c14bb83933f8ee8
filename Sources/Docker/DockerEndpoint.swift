import Foundation

/// Where the Docker (or Podman) Engine API listens: a unix socket (the default) or TCP.
public struct DockerEndpoint: Sendable, Equatable, CustomStringConvertible {
    public static let defaultSocket = "unix:///var/run/docker.sock"

    public enum Transport: Sendable, Equatable {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)
    }

    public let transport: Transport

    /// `unix:///path/to/docker.sock` or `tcp://host:port`; nil for anything else.
    public init?(_ text: String) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { return nil }
            transport = .unixSocket(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst("tcp://".count).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            let parts = rest.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            transport = .tcp(host: String(parts[0]), port: port)
        } else {
            return nil
        }
    }

    /// `--docker-host` when given, else `DOCKER_HOST`, else the standard socket.
    public static func resolve(flag: String?, environment: [String: String]) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let host = environment["DOCKER_HOST"], !host.isEmpty { return host }
        return defaultSocket
    }

    /// The base URL async-http-client understands: `http+unix://<socket path, percent-encoded>`.
    var baseURL: String {
        switch transport {
        case .unixSocket(let path):
            "http+unix://" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path)
        case .tcp(let host, let port):
            "http://\(host):\(port)"
        }
    }

    public var description: String {
        switch transport {
        case .unixSocket(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}
