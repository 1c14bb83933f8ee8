/// What the dashboard and the API may do to a container.
public enum ContainerAction: String, Sendable, CaseIterable {
    case start, stop, restart, pause, unpause
}
