import Foundation

/// Everything `nebula serve` can be told, already validated.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory: URL
    public var webDirectory: URL?
    public var telemetryInterval: Duration = .seconds(30)
    public var pingInterval: Duration = .seconds(25)
    public var maxQueueBytes = 1 << 20
    public var maxFrameBytes = 64 * 1024
    public var echoEndpoint = false
    /// `NEBULA_API_KEY`: the admin key for automation; nil means generate or load one.
    public var apiKey: String?

    public init(dataDirectory: URL) {
        self.dataDirectory = dataDirectory
    }

    /// The `web/` folder of the checkout this binary was built in, found by walking up from the
    /// executable; nil when there is none (then only the API is served).
    public static func defaultWebDirectory() -> URL? {
        let fm = FileManager.default
        var candidates: [URL] = [URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent("web")]
        if let executable = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<5 {
                candidates.append(directory.appendingPathComponent("web"))
                candidates.append(directory.appendingPathComponent("share/nebula/web"))
                directory.deleteLastPathComponent()
            }
        }
        return candidates.first { fm.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }
}
