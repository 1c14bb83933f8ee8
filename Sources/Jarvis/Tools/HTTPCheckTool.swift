import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Realtime

#if canImport(Glibc)
import Glibc
#endif

/// `http_check`: is an HTTP endpoint up — status, time to the response head, and a few headers.
public struct HTTPCheckTool: JarvisTool {
    private let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public let name = "http_check"
    public let description = "Request a URL (GET, no body kept) and report the HTTP status, the time until the response, and its server and content-type headers."
    public let tier = ToolTier.diagnose
    public var parameters: JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object([
                ("url", .object([("type", .string("string")), ("description", .string("http:// or https:// URL"))])),
                ("timeout_ms", .object([("type", .string("integer")), ("description", .string("give up after this long (100-30000, default 5000)"))])),
            ])),
            ("required", .array([.string("url")])),
        ])
    }

    public func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let url = try arguments.toolString("url")
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ToolError(.badArguments, "'url' must start with http:// or https://")
        }
        let timeout = try arguments.toolInteger("timeout_ms", in: 100...30_000, default: 5_000)
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "NebulaCommand-Jarvis/1")
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout))
            let milliseconds = Int((ContinuousClock.now - started) / .milliseconds(1))
            // Drain a little of the body so the connection can be reused, never more.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return .object([
                ("url", .string(url)),
                ("status", .number(String(response.status.code))),
                ("reason", .string(response.status.reasonPhrase)),
                ("ok", .bool((200..<400).contains(response.status.code))),
                ("response_ms", .number(String(milliseconds))),
                ("server", response.headers.first(name: "server").map(JSONValue.string) ?? .null),
                ("content_type", response.headers.first(name: "content-type").map(JSONValue.string) ?? .null),
            ])
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw ToolError(.timeout, "no response from \(url) within \(timeout) ms")
        } catch let error as IOError {
            // NIO's own description of a socket error reads "connection reset (error set): …"; say what the system says.
            throw ToolError(.failed, "\(url): \(String(cString: strerror(error.errnoCode)).lowercased()) (errno \(error.errnoCode))")
        } catch {
            throw ToolError(.failed, "\(url): \(error)")
        }
    }
}
