import Foundation
import Testing

@testable import Alerts

@Suite("E-mail targets: SMTP URLs and RFC 5322 messages")
struct EmailTests {
    let alert = Alert.sample

    @Test("smtp:// means STARTTLS on 587, smtps:// TLS on 465, ?tls=none the explicit opt-out")
    func settings() throws {
        let full = try #require(SMTPSettings("smtp://nebula:p%40ss@mail.example.org?to=me@example.org,you@example.org&to=ops@example.org&from=box@example.org&ca=/etc/ca.pem"))
        #expect(full.security == .startTLS && full.port == 587 && full.host == "mail.example.org")
        #expect(full.username == "nebula" && full.password == "p@ss" && full.caFile == "/etc/ca.pem")
        #expect(full.to == ["me@example.org", "you@example.org", "ops@example.org"] && full.from == "box@example.org")
        let implicit = try #require(SMTPSettings("smtps://smtp.mail.example.org?to=me@example.org"))
        #expect(implicit.security == .implicitTLS && implicit.port == 465 && implicit.username == nil)
        #expect(implicit.from == "nebula@example.org")
        let plain = try #require(SMTPSettings("smtp://relay.lan:25?tls=none&to=me@lan"))
        #expect(plain.security == .none && plain.port == 25)
        for bad in [
            "smtp://relay.lan", "smtp://relay.lan?to=", "http://relay.lan?to=me@lan", "smtp://?to=me@lan",
            "smtp://relay.lan?to=me", "smtp://relay.lan?to=me@lan>%0D%0ARCPT", "smtp://relay.lan?to=me@lan&from=a<b@c",
            "smtps://relay.lan?to=me@lan&tls=none", "smtp://relay.lan?to=me@lan&tls=maybe",
        ] {
            #expect(SMTPSettings(bad) == nil, "\(bad)")
        }
    }

    @Test("a target list splits on commas only where a new kind= starts; the description hides credentials")
    func targetList() throws {
        let targets = try #require(NotificationTarget.list("email=smtp://u:secret@mail.lan?to=a@lan,b@lan, webhook=https://hooks.lan/x,ntfy=https://ntfy.sh/t"))
        #expect(targets.map(\.kind) == [.email, .webhook, .ntfy])
        #expect(targets[0].smtp?.to == ["a@lan", "b@lan"])
        #expect(targets[0].description == "email://mail.lan:587" && !targets[0].description.contains("secret"))
        #expect(NotificationTarget.list("email=smtp://mail.lan?to=a@lan,slack=https://x") == nil)
        #expect(NotificationTarget.list("email=smtp://mail.lan") == nil)
    }

    @Test("the message: headers, an encoded-word subject, a base64 UTF-8 body with the alert's facts")
    func message() throws {
        let message = EmailMessage(for: alert, from: "box@example.org", to: ["me@example.org", "ops@example.org"], server: "Nebula Command on box")
        let rendered = message.rendered(date: Date(timeIntervalSince1970: 0), messageID: "ABC")
        let (head, body) = try #require(rendered.range(of: "\r\n\r\n").map { (rendered[..<$0.lowerBound], rendered[$0.upperBound...]) })
        let headers = head.components(separatedBy: "\r\n")
        #expect(headers.contains("From: Nebula Command <box@example.org>"))
        #expect(headers.contains("To: <me@example.org>, <ops@example.org>"))
        #expect(headers.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        #expect(headers.contains("Message-ID: <abc@example.org>"))
        #expect(headers.contains("Content-Type: text/plain; charset=utf-8"))
        // The subject has an em dash: an RFC 2047 word that decodes back to it.
        let subject = try #require(headers.first { $0.hasPrefix("Subject: ") }).dropFirst("Subject: ".count)
        #expect(subject.hasPrefix("=?UTF-8?B?") && subject.hasSuffix("?="))
        let decoded = Data(base64Encoded: String(subject.dropFirst(10).dropLast(2))).map { String(decoding: $0, as: UTF8.self) }
        #expect(decoded == "[FIRING] filesystem_full — /srv")
        let lines = body.split(separator: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 && !$0.hasPrefix(".") })
        let text = try #require(Data(base64Encoded: lines.joined()).map { String(decoding: $0, as: UTF8.self) })
        #expect(text.hasPrefix(alert.summary + "\r\n"))
        #expect(text.contains("Rule:      filesystem_full (warning)") && text.contains("Value:     91.0"))
        #expect(text.hasSuffix("Sent by Nebula Command on box."))
    }

    @Test("long non-ASCII subjects become several encoded words, none over 75 characters")
    func longSubject() {
        let words = EmailMessage.encodedWord(String(repeating: "Übergröße ", count: 12)).components(separatedBy: "\r\n ")
        #expect(words.count > 1 && words.allSatisfy { $0.count <= 75 })
        let decoded = words.compactMap { Data(base64Encoded: String($0.dropFirst(10).dropLast(2))) }.map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(decoded == String(repeating: "Übergröße ", count: 12))
    }
}
