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
    }

    public let kind: Kind
    public let url: String

    /// `discord=https://…`, `ntfy=https://…`, `webhook=https://…`; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = Kind(rawValue: parts[0]), let url = URL(string: parts[1]),
            ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil
        else { return nil }
        self.kind = kind
        self.url = parts[1]
    }

    /// For logs and the API: the kind and host, never the path (webhook paths carry tokens).
    public var description: String {
        "\(kind.rawValue)://\(URL(string: url)?.host ?? "?")"
    }
}
