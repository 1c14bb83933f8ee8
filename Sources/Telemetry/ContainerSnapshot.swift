import Docker

/// Every container on the engine with its latest usage: what `telemetry.containers` carries.
public struct ContainerSnapshot: Sendable, Encodable {
    public struct Engine: Sendable, Encodable, Equatable {
        /// `ok` or `unavailable`.
        public var status: String
        public var endpoint: String
        public var version: String?
        public var apiVersion: String?
        public var error: String?

        enum CodingKeys: String, CodingKey { case status, endpoint, version, apiVersion = "api_version", error }
    }

    public var engine: Engine
    /// Unix milliseconds of the collection.
    public var collectedAt: Int64
    /// How long listing and sampling every container took.
    public var durationMilliseconds: Int
    public var containers: [ContainerReport]
    /// Order of the container listings behind snapshots: a larger one saw the engine later. Not
    /// published; it lets the publisher drop a slow sample that an event-driven refresh overtook.
    public var sequence: Int = 0

    enum CodingKeys: String, CodingKey {
        case engine, collectedAt = "collected_at", durationMilliseconds = "duration_ms", containers
    }
}

/// One container: who it is, its state, and its usage over the last interval.
public struct ContainerReport: Sendable, Encodable, Equatable {
    public struct Port: Sendable, Encodable, Equatable {
        public var ip: String?
        public var privatePort: Int
        public var publicPort: Int?
        public var type: String

        enum CodingKeys: String, CodingKey { case ip, privatePort = "private_port", publicPort = "public_port", type }
    }

    public var id: String
    public var name: String
    public var image: String
    public var state: String
    public var status: String
    public var health: String?
    public var restartCount: Int?
    public var exitCode: Int?
    public var startedAt: String?
    public var finishedAt: String?
    public var created: Int64
    public var composeProject: String?
    public var ports: [Port]
    public var labels: [String: String]
    /// Usage over the last interval; every field nil for a stopped container or a first sample.
    public var usage: ContainerUsage

    enum CodingKeys: String, CodingKey {
        case id, name, image, state, status, health, restartCount = "restart_count", exitCode = "exit_code"
        case startedAt = "started_at", finishedAt = "finished_at", created, composeProject = "compose_project", ports, labels
    }

    public init(_ summary: ContainerSummary, details: ContainerDetails?, usage: ContainerUsage?) {
        id = summary.id
        name = summary.name
        image = summary.image
        // Inspect reads the container itself; the listing comes from a view the engine updates a
        // moment later (right after a `die` event it can still say running). Freshly inspected
        // details win.
        state = details?.state.status ?? summary.state
        status = summary.status
        health = details?.state.health ?? summary.health
        restartCount = details?.restartCount
        exitCode = details?.state.exitCode
        startedAt = details?.state.startedAt
        finishedAt = details?.state.finishedAt
        created = summary.created
        composeProject = summary.composeProject
        ports = summary.ports.map { Port(ip: $0.ip, privatePort: $0.privatePort, publicPort: $0.publicPort, type: $0.type) }
        labels = summary.labels
        var usage = usage ?? ContainerUsage()
        // Two decimals are all a dashboard shows; the rest is noise on the wire.
        usage.cpuPercent = usage.cpuPercent.map { ($0 * 100).rounded() / 100 }
        usage.memoryPercent = usage.memoryPercent.map { ($0 * 100).rounded() / 100 }
        self.usage = usage
    }

    // Encodes nil as null, so every documented key is always there; the usage fields sit beside
    // the identity fields in the same object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(image, forKey: .image)
        try c.encode(state, forKey: .state)
        try c.encode(status, forKey: .status)
        try c.encode(health, forKey: .health)
        try c.encode(restartCount, forKey: .restartCount)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(created, forKey: .created)
        try c.encode(composeProject, forKey: .composeProject)
        try c.encode(ports, forKey: .ports)
        try c.encode(labels, forKey: .labels)
        try usage.encode(to: encoder)
    }
}
