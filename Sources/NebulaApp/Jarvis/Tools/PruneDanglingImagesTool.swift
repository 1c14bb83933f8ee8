import Docker
import Jarvis
import Realtime

/// `prune_dangling_images`: removes untagged images no container uses (proactive).
struct PruneDanglingImagesTool: JarvisTool {
    let client: DockerClient

    let name = "prune_dangling_images"
    let description = "Delete dangling Docker images: untagged images that no container uses (left behind by pulls and rebuilds)."
    let tier = ToolTier.proactive
    var parameters: JSONValue { ToolSchema.object([]) }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        do {
            let (deleted, freed) = try await client.pruneDanglingImages()
            return .object([("images_deleted", .number(deleted)), ("freed_bytes", .number(freed))])
        } catch {
            throw ContainerLogsTool.toolError(error)
        }
    }
}
