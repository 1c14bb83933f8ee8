import Realtime
import Store

extension UserRecord {
    /// A user as the API shows it: never the password hash or the TOTP secret.
    func writeJSON(into w: inout JSONWriter) {
        w.raw("{\"id\":")
        w.integer(id)
        w.raw(",\"username\":")
        w.string(username)
        w.raw(",\"role\":")
        w.string(role)
        w.raw(",\"totp_enabled\":")
        w.bool(totpSecret != nil)
        w.raw(",\"disabled\":")
        w.bool(disabled)
        w.raw(",\"created_at\":")
        w.string(Timestamp.rfc3339(createdAt))
        w.raw("}")
    }
}
