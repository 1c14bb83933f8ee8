import Docker
import Jarvis
import Realtime

/// `prune_build_cache`: frees Docker's build cache (proactive: suggested on a schedule, run once approved).
struct PruneBuildCacheTool: JarvisTool {
    let client: DockerClient

    let name = "prune_build_cache"
    let description = "Delete Docker's build cache (layers kept from earlier image builds); images and containers are not touched."
    let tier = ToolTier.proactive
    var parameters: JSONValue { ToolSchema.object([]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        do {
            return .object([("freed_bytes", .number(try await client.pruneBuildCache()))])
        } catch {
            throw ContainerLogsTool.toolError(error)
        }
    }
}
