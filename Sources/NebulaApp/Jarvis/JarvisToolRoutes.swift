import Hummingbird
import Jarvis
import Realtime
import Store

/// `/api/v1/jarvis/tools`: the tool catalog with the policy's decision for each tool (anyone who
/// talks to Jarvis may read it), and `PUT /api/v1/jarvis/tools/policy` for admins to change
/// single tools' decisions.
struct JarvisToolRoutes {
    let toolbox: JarvisToolbox
    let authenticator: any Authenticator
    let audit: any AuditSink

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/jarvis/tools")
        group.get { request, _ in try await list(request) }
        group.put("policy") { request, context in try await replacePolicy(request, context: context) }
    }

    private func list(_ request: Request) async throws -> Response {
        let principal = try await request.principal(using: authenticator)
        guard principal.has(.read) else { throw APIError(.forbidden, code: "forbidden", "reading the Jarvis tools needs the read scope") }
        return .json(try await listing())
    }

    private func replacePolicy(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "changing the Jarvis tool policy")
        let body = try await request.jsonObject(expecting: "{\"policy\": {\"<tool>\": \"auto\" | \"approval\" | \"forbidden\"}}")
        guard case .object(let entries)? = body["policy"] else {
            throw APIError(.badRequest, code: "bad_request", "field 'policy' must be an object of tool name to decision")
        }
        var overrides: [String: ToolPolicy.Decision] = [:]
        for (tool, value) in entries {
            guard toolbox.catalog.tool(named: tool) != nil else {
                throw APIError(.badRequest, code: "bad_request", "there is no tool '\(tool)'")
            }
            guard let decision = value.stringValue.flatMap(ToolPolicy.Decision.init(rawValue:)) else {
                throw APIError(.badRequest, code: "bad_request", "tool '\(tool)': the decision is auto, approval or forbidden")
            }
            overrides[tool] = decision
        }
        try await toolbox.replacePolicy(overrides, by: principal.displayName)
        let summary = overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
        try await audit.append(principal.audit("jarvis.tools.policy", target: summary.isEmpty ? "defaults" : summary, from: context.clientAddress))
        return .json(try await listing())
    }

    private func listing() async throws -> [UInt8] {
        let policy = try await toolbox.policy()
        let defaults = ToolPolicy()
        let tools: [JSONValue] = toolbox.catalog.tools.map { tool in
            .object([
                ("name", .string(tool.name)),
                ("description", .string(tool.description)),
                ("tier", .string(tool.tier.rawValue)),
                ("decision", .string(policy.decision(for: tool).rawValue)),
                ("default_decision", .string(defaults.decision(for: tool).rawValue)),
                ("required_role", tool.requiredScope.flatMap(ToolCallHandler.role(for:)).map(JSONValue.string) ?? .null),
                ("parameters", tool.parameters),
            ])
        }
        return JSONValue.object([("result", .object([("tools", .array(tools))]))]).jsonBytes
    }
}
