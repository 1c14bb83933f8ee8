import Foundation

/// An e-mail target, from `email=smtp://user:password@host:587?to=me@example.org&from=nebula@example.org`
/// (several recipients: `to=a@x,b@y` or `to=a@x&to=b@y`).
///
/// `smtp://` upgrades with STARTTLS and refuses to go on without it, so credentials and alerts never
/// cross the network in the clear by accident; `smtps://` speaks TLS from the first byte (port 465);
/// `?tls=none` is the explicit opt-out for a relay on a trusted LAN. `?ca=/path.pem` trusts a private
/// CA or a self-signed relay certificate.
public struct SMTPSettings: Sendable, Equatable {
    public enum Security: String, Sendable, Equatable {
        case startTLS = "starttls"
        case implicitTLS = "implicit"
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    public var from: String
    public var to: [String]
    public var caFile: String?

    /// Parses the URL; nil when it is not smtp(s)://host with at least one valid `to` address.
    public init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { return nil }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        switch (scheme, query["tls"]) {
        case ("smtps", nil): security = .implicitTLS
        case ("smtp", nil), ("smtp", "starttls"): security = .startTLS
        case ("smtp", "none"): security = .none
        default: return nil
        }
        self.host = host
        port = components.port ?? (security == .implicitTLS ? 465 : 587)
        username = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding
        let recipients = (components.queryItems ?? []).filter { $0.name == "to" }.flatMap { ($0.value ?? "").split(separator: ",").map(String.init) }
        guard !recipients.isEmpty, recipients.allSatisfy(Self.isAddress) else { return nil }
        to = recipients
        from = query["from"] ?? "nebula@\(Self.domain(host))"
        guard Self.isAddress(from) else { return nil }
        caFile = query["ca"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A mailbox we can put between `<` and `>` without letting it inject anything into the
    /// conversation or the headers.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, text.utf8.count <= 254 else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains($0) }
    }

    /// The relay's domain, for a default sender: `mail.example.org` gives `example.org`.
    private static func domain(_ host: String) -> String {
        let labels = host.split(separator: ".")
        return labels.count > 2 ? labels.suffix(2).joined(separator: ".") : host
    }
}
