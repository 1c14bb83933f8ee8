import Foundation

/// An alert as an RFC 5322 message: plain UTF-8 text, base64 so no line is too long or starts with
/// a dot, and a subject in an RFC 2047 encoded word when it is not plain ASCII.
public struct EmailMessage: Sendable, Equatable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String

    public init(for alert: Alert, from: String, to: [String], server: String) {
        self.from = from
        self.to = to
        subject = "[\(alert.state.rawValue.uppercased())] \(alert.rule) — \(alert.subject)"
        var lines = [
            alert.summary, "",
            "Rule:      \(alert.rule) (\(alert.severity.rawValue))",
            "Subject:   \(alert.subject)",
            "State:     \(alert.state.rawValue)",
            "Since:     \(Self.timestamp(alert.since))",
            "Fired:     \(Self.timestamp(alert.firedAt))",
        ]
        if let resolved = alert.resolvedAt { lines.append("Resolved:  \(Self.timestamp(resolved))") }
        if let value = alert.value { lines.append("Value:     \((value * 100).rounded() / 100)") }
        lines += ["", "Sent by \(server)."]
        text = lines.joined(separator: "\n")
    }

    /// The message as sent after DATA, lines ending in CRLF, without the closing dot.
    public func rendered(date: Date = Date(), messageID: String = UUID().uuidString) -> String {
        let domain = from.split(separator: "@").last.map(String.init) ?? "localhost"
        let headers = [
            "From: Nebula Command <\(from)>",
            "To: " + to.map { "<\($0)>" }.joined(separator: ", "),
            "Subject: " + Self.encodedWord(subject),
            "Date: " + Self.rfc5322(date),
            "Message-ID: <\(messageID.lowercased())@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated",
        ]
        let body = Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
    }

    /// RFC 2047: non-ASCII header text as `=?UTF-8?B?…?=` words, each short enough for one line.
    static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            // 45 bytes of UTF-8 make 60 base64 characters: with the wrapper, under the 75 allowed.
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    private static func timestamp(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
