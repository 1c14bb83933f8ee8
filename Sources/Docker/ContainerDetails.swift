/// What `GET /containers/{id}/json` adds to the listing: restart count, exit code, health, TTY.
public struct ContainerDetails: Decodable, Sendable, Equatable {
    public struct State: Decodable, Sendable, Equatable {
        public let status: String
        public let exitCode: Int
        public let startedAt: String?
        public let finishedAt: String?
        public let health: String?
        /// The container's first process as the engine's host sees it; 0 when it is not running.
        public let pid: Int

        enum CodingKeys: String, CodingKey {
            case status = "Status", exitCode = "ExitCode", startedAt = "StartedAt", finishedAt = "FinishedAt", health = "Health"
            case pid = "Pid"
        }
        enum HealthKeys: String, CodingKey { case status = "Status" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            status = try c.decodeIfPresent(String.self, forKey: .status) ?? "unknown"
            exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
            startedAt = try c.decodeIfPresent(String.self, forKey: .startedAt)
            finishedAt = try c.decodeIfPresent(String.self, forKey: .finishedAt)
            health = try? c.nestedContainer(keyedBy: HealthKeys.self, forKey: .health).decodeIfPresent(String.self, forKey: .status)
            pid = try c.decodeIfPresent(Int.self, forKey: .pid) ?? 0
        }
    }

    public let id: String
    public let name: String
    public let restartCount: Int
    public let state: State
    /// Logs of a TTY container are raw; others use the 8-byte multiplexed framing.
    public let tty: Bool

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", restartCount = "RestartCount", state = "State", config = "Config"
    }
    enum ConfigKeys: String, CodingKey { case tty = "Tty" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        let raw = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        name = raw.hasPrefix("/") ? String(raw.dropFirst()) : raw
        restartCount = try c.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
        state = try c.decode(State.self, forKey: .state)
        tty = (try? c.nestedContainer(keyedBy: ConfigKeys.self, forKey: .config).decodeIfPresent(Bool.self, forKey: .tty)) ?? false
    }
}
