import Foundation
import HTTPTypes
import Hummingbird
import MCP
import Realtime

/// `/mcp`: the Model Context Protocol's Streamable HTTP endpoint (stateless: each POST is answered
/// with one JSON response). Agents authenticate with an API key (`Authorization: Bearer …`) holding
/// `read`; what a tool may do without approval follows the key's scopes.
struct MCPRoutes {
    let server: MCPToolServer
    let authenticator: any Authenticator
    static let maxBodyBytes = 1 << 20

    func register(on router: Router<NebulaRequestContext>) {
        router.post("mcp") { request, _ in try await handle(request) }
        router.get("mcp") { request, _ in try await handle(request) }
        router.delete("mcp") { request, _ in try await handle(request) }
    }

    private func handle(_ request: Request) async throws -> Response {
        let principal = try await request.principal(using: authenticator)
        guard principal.has(.read) else { throw APIError(.forbidden, code: "forbidden", "MCP needs an API key with the read scope") }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "bad_request", "body over \(Self.maxBodyBytes) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers where field.name != .authorization && field.name != .cookie {
            headers[field.name.canonicalName] = headers[field.name.canonicalName].map { "\($0), \(field.value)" } ?? field.value
        }
        let answer = await server.handle(
            MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: Data(body.readableBytesView), path: request.uri.path), for: principal)
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let bytes = answer.bodyData.map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        return Response(status: .init(code: answer.statusCode), headers: fields, body: .init(byteBuffer: bytes))
    }
}
