import Realtime
import Store

extension AuditEntry {
    /// The entry as the audit API and the `audit` channel show it.
    var jsonValue: JSONValue {
        let text = { (value: String?) in value.map(JSONValue.string) ?? .null }
        return .object([
            ("id", .number(String(id))),
            ("at", .string(Timestamp.rfc3339(at, fractional: true))),
            ("actor", .string(actor)),
            ("action", .string(action)),
            ("target", text(target)),
            ("client_address", text(clientAddress)),
            ("outcome", .string(outcome)),
            ("details", text(details)),
        ])
    }
}
