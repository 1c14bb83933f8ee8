import Foundation

/// Where alerts are sent, named on the command line as `kind=url`.
public struct NotificationTarget: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// A Discord channel webhook (`https://discord.com/api/webhooks/…`).
        case discord
        /// An ntfy topic URL (`https://ntfy.sh/homelab`).
        case ntfy
        /// Any URL taking the alert as JSON.
        case webhook
        /// E-mail through an SMTP relay (`smtp://…?to=…`, see `SMTPSettings`).
        case email
    }

    public let kind: Kind
    public let url: String
    /// For `email`: the relay, the credentials and the addresses.
    public let smtp: SMTPSettings?

    /// `discord=https://…`, `ntfy=https://…`, `webhook=https://…`, `email=smtp(s)://…?to=…`; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]) else { return nil }
        if kind == .email {
            guard let smtp = SMTPSettings(parts[1]) else { return nil }
            self.smtp = smtp
        } else {
            guard let url = URL(string: parts[1]), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else { return nil }
            smtp = nil
        }
        self.kind = kind
        self.url = parts[1]
    }

    /// A comma-separated list of targets. A comma starts a new target only before `kind=`, so an
    /// e-mail URL may list its recipients with commas. Nil when any entry is invalid.
    public static func list(_ text: String) -> [NotificationTarget]? {
        var entries: [String] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let startsTarget = Kind.allCases.contains { piece.trimmingCharacters(in: .whitespaces).hasPrefix("\($0.rawValue)=") }
            if startsTarget || entries.isEmpty {
                entries.append(String(piece))
            } else {
                entries[entries.count - 1] += "," + piece
            }
        }
        var targets: [NotificationTarget] = []
        for entry in entries {
            guard let target = NotificationTarget(entry.trimmingCharacters(in: .whitespaces)) else { return nil }
            targets.append(target)
        }
        return targets
    }

    /// For logs and the API: the kind and host, never the path (webhook paths carry tokens).
    public var description: String {
        if let smtp { return "email://\(smtp.host):\(smtp.port)" }
        return "\(kind.rawValue)://\(URL(string: url)?.host ?? "?")"
    }
}
