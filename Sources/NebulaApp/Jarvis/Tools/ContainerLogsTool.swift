import Docker
import Jarvis
import Realtime

/// `container_logs`: the last lines a container wrote (stdout and stderr).
struct ContainerLogsTool: JarvisTool {
    let client: DockerClient
    static let maxLines = 200
    /// A model reads every byte it is given: long lines are cut.
    static let maxLineLength = 400

    let name = "container_logs"
    let description = "The last lines a container wrote to stdout and stderr."
    let tier = ToolTier.diagnose
    var parameters: JSONValue {
        ToolSchema.object(
            [
                ("container", ToolSchema.string("container name or id")),
                ("lines", ToolSchema.integer("how many of the last lines (default 50)", minimum: 1, maximum: Self.maxLines)),
            ], required: ["container"])
    }

    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let container = try arguments.toolString("container")
        let count = try arguments.toolInteger("lines", in: 1...Int64(Self.maxLines), default: 50)
        do {
            let details = try await client.details(container)
            var lines: [JSONValue] = []
            for try await batch in client.logs(container, tail: Int(count), follow: false, tty: details.tty) {
                for line in batch {
                    let text = line.text.count > Self.maxLineLength ? String(line.text.prefix(Self.maxLineLength)) + "…" : line.text
                    lines.append(.object([("stream", .string(line.stream.rawValue)), ("text", .string(text))]))
                }
            }
            return .object([("container", .string(container)), ("lines", .array(Array(lines.suffix(Int(count)))))])
        } catch let error as DockerError {
            throw Self.toolError(error)
        } catch {
            throw ToolError(.failed, "the logs could not be read: \(error)")
        }
    }

    static func toolError(_ error: DockerError) -> ToolError {
        if case .notFound(let container) = error { return ToolError(.failed, "there is no container '\(container)'") }
        return ToolError(.failed, error.description)
    }
}
