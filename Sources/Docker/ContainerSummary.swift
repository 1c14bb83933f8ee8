/// One entry of `GET /containers/json`, as Docker and Podman's compatible API send it.
public struct ContainerSummary: Decodable, Sendable, Equatable {
    public struct Port: Decodable, Sendable, Equatable {
        public let ip: String?
        public let privatePort: Int
        public let publicPort: Int?
        public let type: String

        enum CodingKeys: String, CodingKey {
            case ip = "IP", privatePort = "PrivatePort", publicPort = "PublicPort", type = "Type"
        }
    }

    public let id: String
    public let names: [String]
    public let image: String
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public let state: String
    /// Human text such as `Up 5 minutes (healthy)`.
    public let status: String
    public let labels: [String: String]
    public let ports: [Port]
    public let created: Int64

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", status = "Status", labels = "Labels"
        case ports = "Ports", created = "Created"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? []
        image = try c.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? "unknown"
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        ports = try c.decodeIfPresent([Port].self, forKey: .ports) ?? []
        created = try c.decodeIfPresent(Int64.self, forKey: .created) ?? 0
    }

    /// The name without Docker's leading `/` (Podman sends none).
    public var name: String {
        let first = names.first ?? String(id.prefix(12))
        return first.hasPrefix("/") ? String(first.dropFirst()) : first
    }

    /// `healthy`, `unhealthy` or `starting` when the container has a health check.
    public var health: String? {
        if status.contains("(healthy)") { return "healthy" }
        if status.contains("(unhealthy)") { return "unhealthy" }
        if status.contains("(health: starting)") { return "starting" }
        return nil
    }

    public var composeProject: String? { labels["com.docker.compose.project"] }
}
