import Realtime
import Testing
@testable import Jarvis

fileprivate struct EchoTool: JarvisTool {
    let name: String
    let tier: ToolTier
    var delay: Duration = .zero
    var description: String { "echoes \(name)" }
    var parameters: JSONValue { .object([("type", .string("object"))]) }
    func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        if delay > .zero {
            do { try await Task.sleep(for: delay) } catch { throw ToolError(.cancelled, "stopped") }
        }
        if arguments["fail"] != nil { throw ToolError(.failed, "asked to fail") }
        return .object([("echo", arguments)])
    }
}

@Suite("Tool invocation")
struct ToolInvocationTests {
    fileprivate let logs = EchoTool(name: "container_logs", tier: .diagnose)
    fileprivate let restart = EchoTool(name: "restart_container", tier: .remediate)
    var catalog: ToolCatalog { ToolCatalog([logs, restart]) }

    private func plan(_ name: String, _ arguments: String, policy: ToolPolicy = ToolPolicy(), scopes: Set<Principal.Scope> = [.containers]) -> ToolInvocation.Plan {
        ToolInvocation.plan(ChatMessage.ToolCall(id: "call_1", name: name, arguments: arguments), catalog: catalog, policy: policy) { scopes.contains($0) }
    }

    private func refusal(_ plan: ToolInvocation.Plan) -> ToolError.Code? {
        if case .refuse(_, let error) = plan { return error.code }
        return nil
    }

    @Test func policyDecidesAndBadCallsAreRefusedWithTheirReason() {
        guard case .run(let tool, let arguments) = plan("container_logs", #"{"container":"web"}"#) else { Issue.record("not run"); return }
        #expect(tool.name == "container_logs" && arguments["container"]?.stringValue == "web")
        // Empty arguments are an empty object (some providers send "" for a tool without parameters).
        guard case .run = plan("container_logs", "") else { Issue.record("empty arguments not accepted"); return }
        guard case .approval(let waiting, _) = plan("restart_container", #"{"container":"web"}"#) else { Issue.record("not approval"); return }
        #expect(waiting.name == "restart_container")
        #expect(refusal(plan("format_disk", "{}")) == .unknownTool)
        #expect(refusal(plan("container_logs", "{}", policy: ToolPolicy(overrides: ["container_logs": .forbidden]))) == .forbidden)
        #expect(refusal(plan("container_logs", #"{"container": "#)) == .badArguments)
        #expect(refusal(plan("container_logs", "[1]")) == .badArguments)
    }

    @Test func autoStillWaitsForApprovalWhenTheAskerLacksTheToolsScope() {
        let auto = ToolPolicy(overrides: ["restart_container": .auto])
        guard case .run = plan("restart_container", "{}", policy: auto, scopes: [.containers]) else { Issue.record("operator: not run"); return }
        guard case .approval = plan("restart_container", "{}", policy: auto, scopes: [.read]) else { Issue.record("viewer: ran unapproved"); return }
    }

    @Test func resultsAreTheJSONTheModelReads() async throws {
        let ok = await ToolInvocation.execute(logs, .object([("container", .string("web"))]))
        let text = ToolInvocation.resultText(ok)
        let parsed = try JSONParser.parse(text)
        #expect(parsed["ok"] == .bool(true) && parsed["result"]?["echo"]?["container"]?.stringValue == "web")
        let failed = try JSONParser.parse(ToolInvocation.resultText(await ToolInvocation.execute(logs, .object([("fail", .bool(true))]))))
        #expect(failed["ok"] == .bool(false))
        #expect(failed["error"]?["code"]?.stringValue == "failed" && failed["error"]?["message"]?.stringValue == "asked to fail")
    }

    @Test func aToolThatTakesTooLongTimesOut() async {
        let slow = EchoTool(name: "slow", tier: .diagnose, delay: .seconds(30))
        let started = ContinuousClock.now
        let outcome = await ToolInvocation.execute(slow, .object([]), timeout: .milliseconds(100))
        guard case .failure(let error) = outcome else { Issue.record("no timeout"); return }
        #expect(error.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func stoppingTheAnswerStopsTheTool() async {
        let slow = EchoTool(name: "slow", tier: .diagnose, delay: .seconds(30))
        let task = Task { await ToolInvocation.execute(slow, .object([])) }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        guard case .failure(let error) = await task.value else { Issue.record("not stopped"); return }
        #expect(error.code == .cancelled)
    }
}
