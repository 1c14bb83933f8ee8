/// One line of the `GET /events` stream, for containers.
public struct DockerEvent: Decodable, Sendable, Equatable {
    public let type: String
    /// `start`, `die`, `stop`, `restart`, `pause`, `unpause`, `destroy`, `health_status: healthy` …
    public let action: String
    public let containerID: String
    public let attributes: [String: String]
    public let timeNano: Int64?

    enum CodingKeys: String, CodingKey { case type = "Type", action = "Action", actor = "Actor", timeNano }
    enum ActorKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        action = try c.decodeIfPresent(String.self, forKey: .action) ?? ""
        let actor = try c.nestedContainer(keyedBy: ActorKeys.self, forKey: .actor)
        containerID = try actor.decodeIfPresent(String.self, forKey: .id) ?? ""
        attributes = try actor.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
        timeNano = try c.decodeIfPresent(Int64.self, forKey: .timeNano)
    }

    /// The verb without detail: `health_status: healthy` is a `health_status` event.
    public var kind: String { action.split(separator: ":", maxSplits: 1).first.map(String.init) ?? action }
}
