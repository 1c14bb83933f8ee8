import Foundation

/// An alert in each target's documented format: Discord's webhook JSON (content + embed), ntfy's
/// plain-text body with Title/Priority/Tags headers, or the alert itself as JSON.
public struct NotificationMessage: Sendable, Equatable {
    public var headers: [(String, String)]
    public var body: [UInt8]

    public static func == (a: NotificationMessage, b: NotificationMessage) -> Bool {
        a.body == b.body && a.headers.map { "\($0.0):\($0.1)" } == b.headers.map { "\($0.0):\($0.1)" }
    }

    public init(for alert: Alert, kind: NotificationTarget.Kind, server: String) {
        let title = (alert.state == .firing ? "🔥 " : "✅ ") + "[\(alert.state.rawValue.uppercased())] \(alert.rule) — \(alert.subject)"
        switch kind {
        case .discord:
            // https://discord.com/developers/docs/resources/webhook#execute-webhook
            let embed: [String: Any] = [
                "title": title,
                "description": alert.summary,
                "color": alert.state == .resolved ? 0x2ECC71 : (alert.severity == .critical ? 0xE74C3C : 0xF1C40F),
                "timestamp": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(alert.resolvedAt ?? alert.firedAt) / 1000)),
                "footer": ["text": server],
            ]
            headers = [("Content-Type", "application/json")]
            body = Self.json(["content": title, "embeds": [embed], "allowed_mentions": ["parse": [String]()]])
        case .ntfy:
            // https://docs.ntfy.sh/publish/ — the message in the body, the rest in headers.
            let priority = alert.state == .resolved ? "default" : (alert.severity == .critical ? "urgent" : "high")
            headers = [
                ("Title", Self.headerSafe(title)), ("Priority", priority),
                ("Tags", alert.state == .resolved ? "white_check_mark" : "rotating_light"), ("Content-Type", "text/plain; charset=utf-8"),
            ]
            body = Array(alert.summary.utf8)
        case .webhook, .email:  // e-mail is composed by EmailMessage; this is only its JSON twin
            var object: [String: Any] = [
                "id": alert.id, "key": alert.key, "rule": alert.rule, "severity": alert.severity.rawValue, "subject": alert.subject,
                "state": alert.state.rawValue, "summary": alert.summary, "since": alert.since, "fired_at": alert.firedAt, "server": server,
            ]
            object["value"] = alert.value ?? NSNull()
            object["resolved_at"] = alert.resolvedAt.map { $0 as Any } ?? NSNull()
            headers = [("Content-Type", "application/json")]
            body = Self.json(object)
        }
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    /// HTTP headers are Latin-1 at best: ntfy decodes RFC 2047 words for anything else.
    private static func headerSafe(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) { return text }
        return "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
    }
}
