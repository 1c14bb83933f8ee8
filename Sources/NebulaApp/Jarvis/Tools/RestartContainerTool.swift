import Docker
import Jarvis
import Realtime

/// `restart_container`: restarts one container (remediate: runs once an operator approved it).
struct RestartContainerTool: JarvisTool {
    let client: DockerClient
    let containers: ContainerTelemetryService

    let name = "restart_container"
    let description = "Restart a Docker container (stop it, then start it again)."
    let tier = ToolTier.remediate
    var parameters: JSONValue { ToolSchema.object([("container", ToolSchema.string("container name or id"))], required: ["container"]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let container = try arguments.toolString("container")
        do {
            try await client.perform(.restart, on: container)
        } catch {
            throw ContainerLogsTool.toolError(error)
        }
        await containers.refresh(nil)
        let report = containers.snapshot?.containers.first { $0.id == container || $0.name == container || $0.id.hasPrefix(container) }
        return .object([
            ("container", .string(report?.name ?? container)), ("action", .string("restart")),
            ("state", .optional(report?.state)), ("status", .optional(report?.status)),
        ])
    }
}
