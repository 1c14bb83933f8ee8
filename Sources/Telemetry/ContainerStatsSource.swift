/// Where a container's usage numbers came from.
public enum ContainerStatsSource: String, Sendable, Equatable {
    /// Read directly from the container's cgroup files and network namespace.
    case cgroup
    /// The engine's `/containers/{id}/stats` endpoint.
    case engine
}
