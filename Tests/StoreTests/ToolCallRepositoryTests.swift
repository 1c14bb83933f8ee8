import Store
import Testing

@Suite("Jarvis tool calls")
struct ToolCallRepositoryTests {
    @Test("tool calls: stored, decided once, finished, expired; the policy replaced as a whole", arguments: Backend.allCases)
    func toolCalls(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        try await ConversationRepository(database).create(ConversationRecord(id: "c-1", owner: "user:1", title: "t", createdAt: 1, updatedAt: 1))
        let calls = ToolCallRepository(database)
        func call(_ id: String, state: ToolCallRecord.State) -> ToolCallRecord {
            ToolCallRecord(
                conversationID: "c-1", messageID: 7, callID: id, tool: "restart_container", description: "Restart",
                arguments: RepositoryTests.hostile, tier: "remediate", policy: "approval", state: state, requestedBy: "val", requestedAt: 10)
        }
        let pending = try await calls.insert(call("call_1", state: .pending))
        let other = try await calls.insert(call("call_2", state: .pending))
        #expect(pending.id > 0 && other.id > pending.id)
        #expect(try await calls.find(id: pending.id) == pending)

        // Two approvals race: one wins.
        let approved = try await calls.decide(id: pending.id, to: .running, by: "otto", at: 20)
        #expect(approved?.state == .running && approved?.decidedBy == "otto" && approved?.decidedAt == 20 && approved?.finishedAt == nil)
        #expect(try await calls.decide(id: pending.id, to: .rejected, by: "ann", at: 21, result: "{}") == nil)
        let done = try await calls.finish(id: pending.id, state: .done, result: #"{"ok":true}"#, at: 30)
        #expect(done?.state == .done && done?.result == #"{"ok":true}"# && done?.finishedAt == 30 && done?.decidedBy == "otto")

        let expired = try await calls.expirePending(conversationID: "c-1", result: #"{"ok":false}"#, at: 40)
        #expect(expired.map(\.id) == [other.id] && expired[0].state == .expired && expired[0].finishedAt == 40)
        #expect(try await calls.expirePending(conversationID: "c-1", result: "{}", at: 41).isEmpty)
        #expect(try await calls.calls(conversationID: "c-1").map(\.state) == [.done, .expired])

        try await calls.replacePolicy(["restart_container": "auto", "http_check": "forbidden"], by: "ann", at: 50)
        #expect(try await calls.policyOverrides() == ["restart_container": "auto", "http_check": "forbidden"])
        try await calls.replacePolicy(["container_logs": "approval"], by: "ann", at: 51)
        #expect(try await calls.policyOverrides() == ["container_logs": "approval"])
        await #expect(throws: (any Error).self) { try await calls.replacePolicy(["x": "sometimes"], by: "ann", at: 52) }
        #expect(try await calls.policyOverrides() == ["container_logs": "approval"], "a refused replacement leaves the old policy")

        // Deleting the conversation takes its calls along.
        #expect(try await ConversationRepository(database).delete(id: "c-1"))
        #expect(try await calls.find(id: pending.id) == nil)
    }
}
