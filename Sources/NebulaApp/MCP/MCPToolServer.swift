import Foundation
import Jarvis
import Logging
import MCP
import Realtime
import Store

/// Jarvis's tools for outside agents over the Model Context Protocol: `tools/list` and `tools/call`
/// for one authenticated principal, under the same policy as in the chat (forbidden tools are not
/// listed; tools needing approval wait for a person; every call is stored and audited).
///
/// One MCP server per HTTP request, on a stateless transport: the SDK's stateless transport matches
/// replies to waiters by JSON-RPC id only, so two clients sharing one would receive each other's
/// answers; and a server per request holds the principal it acts for without any lookup.
struct MCPToolServer: Sendable {
    let tools: ToolCallHandler
    let version: String
    let approvalWait: Duration
    let logger: Logger

    static let instructions = """
        Nebula Command's homelab tools: read host metrics, containers, logs and disk usage; check DNS, \
        HTTP endpoints and TLS certificates; restart containers, clear caches and rotate logs. Tools that \
        change something wait until a person approves the call in Nebula Command.
        """

    func handle(_ request: MCP.HTTPRequest, for principal: Principal) async -> MCP.HTTPResponse {
        let server = Server(
            name: "nebula-command", version: version, title: "Nebula Command", instructions: Self.instructions,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(tools: try await listing())
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            await call(parameters, by: principal)
        }
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                // No Host/Origin check: every request carries a bearer key, which a rebinding page cannot have.
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]),
            logger: logger)
        do {
            try await server.start(transport: transport)
        } catch {
            logger.error("MCP server did not start", metadata: ["error": "\(error)"])
            return .error(statusCode: 500, .internalError("the MCP server did not start"))
        }
        let response = await transport.handleRequest(request)
        await server.stop()
        return response
    }

    private func listing() async throws -> [MCP.Tool] {
        let policy = try await tools.toolbox.policy()
        return try tools.toolbox.catalog.tools.filter { policy.decision(for: $0) != .forbidden }.map { tool in
            MCP.Tool(
                name: tool.name, description: tool.description, inputSchema: try Self.value(tool.parameters),
                annotations: .init(
                    title: nil, readOnlyHint: tool.tier == .diagnose, destructiveHint: tool.tier != .diagnose, idempotentHint: tool.tier == .diagnose,
                    openWorldHint: ["dns_resolve", "http_check", "tls_certificate"].contains(tool.name)))
        }
    }

    private func call(_ parameters: CallTool.Parameters, by principal: Principal) async -> CallTool.Result {
        let arguments: String
        do {
            arguments = String(decoding: try JSONEncoder().encode(parameters.arguments ?? [:]), as: UTF8.self)
        } catch {
            return Self.result(.failure(ToolError(.badArguments, "the arguments could not be read: \(error)")), call: nil)
        }
        do {
            let (call, result) = try await tools.callForAgent(parameters.name, arguments: arguments, by: principal, approvalWait: approvalWait)
            return Self.result(result, call: call)
        } catch {
            return Self.result(.failure(ToolError(.failed, "\(error)")), call: nil)
        }
    }

    /// The tool's JSON as text (for every client) and as structured content; a failure is a tool
    /// error the agent can read, not a protocol error.
    static func result(_ result: Result<JSONValue, ToolError>, call: ToolCallRecord?) -> CallTool.Result {
        let text = ToolInvocation.resultText(result)
        var structured = (try? JSONParser.parse(text)) ?? .null
        if let call, case .object(var members) = structured {
            members.append(("call", .number(String(call.id))))
            structured = .object(members)
        }
        let isError: Bool = if case .failure = result { true } else { false }
        return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: try? value(structured), isError: isError)
    }

    static func value(_ json: JSONValue) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(json.jsonBytes))
    }
}
