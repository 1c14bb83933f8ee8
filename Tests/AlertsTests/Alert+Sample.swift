@testable import Alerts

extension Alert {
    /// A firing filesystem alert, as the notification formats see one.
    static let sample = Alert(
        id: 7, key: "filesystem_full:/srv", rule: "filesystem_full", severity: .warning, subject: "/srv", state: .firing,
        summary: "/srv is 91 % full (limit 80 %)", value: 91, since: 1_000, firedAt: 61_000
    )
}
