import Jarvis
import Store
import Testing
@testable import NebulaApp

@Suite("Jarvis history as the model reads it")
struct JarvisHistoryTests {
    private func message(_ role: String, _ content: String, calls: String? = nil, callID: String? = nil, state: String = "complete") -> ConversationMessageRecord {
        ConversationMessageRecord(conversationID: "c", role: role, content: content, toolCalls: calls, toolCallID: callID, state: state, createdAt: 1)
    }

    @Test func toolCallsAndResultsGoBackInOpenAIsShapesAndUnansweredCallsAreLeftOut() {
        let calls = #"[{"id":"call_1","name":"container_list","arguments":"{}"},{"id":"call_2","name":"restart_container","arguments":"{\"container\":\"web\"}"}]"#
        let history = [
            message("user", "web is down"),
            message("assistant", "", calls: calls),
            message("tool", #"{"ok":true,"result":{}}"#, callID: "call_1"),
            message("assistant", "It exited.", state: "complete"),
            message("assistant", "", state: "failed"),
        ]
        let messages = JarvisService.chatMessages(history: history)
        #expect(messages.map(\.role) == [.system, .user, .assistant, .tool, .assistant])
        // call_2 never got a result (it waited for approval when the replica stopped): providers refuse such a call.
        #expect(messages[2].toolCalls == [ChatMessage.ToolCall(id: "call_1", name: "container_list", arguments: "{}")])
        #expect(messages[2].content == nil)
        #expect(messages[3].toolCallID == "call_1" && messages[3].content == #"{"ok":true,"result":{}}"#)
        #expect(messages[4].content == "It exited.")
        #expect(JarvisService.hasUnansweredToolCalls(history))
        #expect(!JarvisService.hasUnansweredToolCalls(Array(history.prefix(1))))
        let settled = history + [message("tool", "{}", callID: "call_2")]
        #expect(!JarvisService.hasUnansweredToolCalls(settled))
        #expect(JarvisService.toolCalls(fromJSON: "not json").isEmpty)
    }
}
