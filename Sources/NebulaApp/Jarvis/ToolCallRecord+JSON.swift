import Realtime
import Store

extension ToolCallRecord {
    /// As the API and the `tool.call` channel event show it. `arguments` stays the exact text the
    /// model wrote (what an approver approves); `result` is the JSON the model was given back.
    func jsonValue(requiredRole: String?) -> JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func time(_ value: Int64?) -> JSONValue { value.map { .string(Timestamp.rfc3339($0)) } ?? .null }
        let parsedResult: JSONValue = result.flatMap { try? JSONParser.parse($0) } ?? .null
        return .object([
            ("id", .number(String(id))),
            ("answer", messageID.map { .number(String($0)) } ?? .null),
            ("call_id", .string(callID)),
            ("name", .string(tool)),
            ("description", optional(description)),
            ("arguments", .string(arguments)),
            ("tier", .string(tier)),
            ("policy", .string(policy)),
            ("state", .string(state.rawValue)),
            ("required_role", optional(requiredRole)),
            ("requested_by", .string(requestedBy)),
            ("requested_at", time(requestedAt)),
            ("decided_by", optional(decidedBy)),
            ("decided_at", time(decidedAt)),
            ("result", parsedResult),
            ("finished_at", time(finishedAt)),
        ])
    }
}
