import Logging
import Realtime
import Store

/// The audit log as the server writes it: each entry is stored, then published on the `audit`
/// channel so admins watching the dashboard see it live.
struct AuditTrail: AuditSink {
    static let channel = "audit"

    let repository: AuditLogRepository
    let hub: Hub
    let logger: Logger

    @discardableResult
    func append(_ entry: AuditEntry) async throws(StoreError) -> AuditEntry {
        let stored = try await repository.append(entry)
        do {
            _ = try await hub.publish(stored.jsonValue, to: Self.channel, by: .server)
        } catch {
            // The entry is stored; only the live copy is lost, and the audit page still shows it.
            logger.warning("audit entry not published live", metadata: ["action": "\(stored.action)", "error": "\(error)"])
        }
        return stored
    }
}

extension Principal {
    /// An audit entry for an action this principal took.
    func audit(_ action: String, target: String? = nil, from address: String?, outcome: String = "ok", details: String? = nil) -> AuditEntry {
        AuditEntry(actor: displayName, action: action, target: target, clientAddress: address, outcome: outcome, details: details)
    }
}
