import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Hands one message to an SMTP relay (RFC 5321): EHLO, STARTTLS or implicit TLS, AUTH PLAIN or
/// LOGIN, MAIL/RCPT/DATA, QUIT. One connection per message: alerts are rare, and a fresh connection
/// cannot be left half-broken by the previous one.
struct SMTPClient: Sendable {
    let settings: SMTPSettings
    let eventLoopGroup: any EventLoopGroup
    /// The name we greet with.
    let clientName: String
    let timeout: Duration

    func send(_ message: EmailMessage) async throws {
        let tls = try settings.security == .none ? nil : NIOSSLContext(configuration: tlsConfiguration())
        let host = settings.host
        // SNI and certificate names are host names; an address literal is checked without SNI.
        let serverName = host.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } ? nil : host
        let implicit = settings.security == .implicitTLS
        try Task.checkCancellation()
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(.seconds(max(1, timeout.components.seconds)))
            .connect(host: host, port: settings.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicit, let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        // A relay that stops answering must not hold the target's queue forever.
        let deadline = channel.channel.eventLoop.scheduleTask(in: .seconds(max(1, timeout.components.seconds))) {
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        try await withTaskCancellationHandler {
            try await converse(over: channel, message: message, tls: tls, serverName: serverName)
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private func converse(
        over channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, message: EmailMessage, tls: NIOSSLContext?, serverName: String?
    ) async throws {
        let host = settings.host
        try await channel.executeThenClose { inbound, outbound in
            var conversation = Conversation(reader: SMTPReplyReader(inbound.makeAsyncIterator()), outbound: outbound)
            try await conversation.expect(220, during: "the greeting")
            var capabilities = try await conversation.hello(clientName)
            if settings.security == .startTLS, let tls {
                guard capabilities.contains("STARTTLS") else { throw SMTPError.startTLSUnavailable(host: host) }
                try await conversation.command("STARTTLS", expect: 220)
                try await channel.channel.eventLoop.submit {
                    try channel.channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
                }.get()
                capabilities = try await conversation.hello(clientName)
            }
            if let username = settings.username {
                try await conversation.authenticate(username, settings.password ?? "", capabilities: capabilities, host: host)
            }
            try await conversation.command("MAIL FROM:<\(message.from)>", expect: 250)
            for recipient in message.to {
                try await conversation.command("RCPT TO:<\(recipient)>", expect: 250, 251)
            }
            try await conversation.command("DATA", expect: 354)
            try await conversation.data(message.rendered())
            try? await conversation.command("QUIT", expect: 221)
        }
    }

    private func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca = settings.caFile { configuration.trustRoots = .file(ca) }
        return configuration
    }

    /// The command/reply exchange on one connection.
    struct Conversation {
        var reader: SMTPReplyReader
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        @discardableResult
        mutating func expect(_ codes: Int..., during step: String) async throws -> SMTPReply {
            let reply = try await reader.next(during: step)
            guard codes.contains(reply.code) else { throw SMTPError.rejected(step: step, code: reply.code, text: reply.text) }
            return reply
        }

        @discardableResult
        mutating func command(_ line: String, expect codes: Int..., step: String? = nil) async throws -> SMTPReply {
            let step = step ?? String(line.prefix { $0 != " " && $0 != ":" })
            try await write(line + "\r\n", during: step)
            let reply = try await reader.next(during: step)
            guard codes.contains(reply.code) else { throw SMTPError.rejected(step: step, code: reply.code, text: reply.text) }
            return reply
        }

        /// Sends; when the channel is already closed, the reason (a failed TLS handshake, a reset)
        /// waits on the inbound side, and that is the error worth reporting.
        mutating func write(_ text: String, during step: String) async throws {
            do {
                try await outbound.write(ByteBuffer(string: text))
            } catch {
                _ = try await reader.next(during: step)
                throw error
            }
        }

        /// EHLO; answers the extension keywords the relay offers (`STARTTLS`, `AUTH PLAIN LOGIN` …).
        mutating func hello(_ name: String) async throws -> Set<String> {
            let reply = try await command("EHLO \(name)", expect: 250)
            var keywords: Set<String> = []
            for line in reply.lines.dropFirst() {
                let words = line.uppercased().split(separator: " ")
                guard let keyword = words.first else { continue }
                keywords.insert(String(keyword))
                if keyword == "AUTH" { for mechanism in words.dropFirst() { keywords.insert("AUTH=\(mechanism)") } }
            }
            return keywords
        }

        mutating func authenticate(_ username: String, _ password: String, capabilities: Set<String>, host: String) async throws {
            if capabilities.contains("AUTH=PLAIN") {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                try await command("AUTH PLAIN \(token)", expect: 235, step: "AUTH PLAIN")
            } else if capabilities.contains("AUTH=LOGIN") {
                try await command("AUTH LOGIN", expect: 334)
                try await command(Data(username.utf8).base64EncodedString(), expect: 334, step: "AUTH LOGIN (user name)")
                try await command(Data(password.utf8).base64EncodedString(), expect: 235, step: "AUTH LOGIN (password)")
            } else {
                throw SMTPError.authenticationUnavailable(host: host)
            }
        }

        /// The message with dot-stuffing (RFC 5321 §4.5.2) and the closing dot.
        mutating func data(_ rendered: String) async throws {
            var text = rendered.hasSuffix("\r\n") ? rendered : rendered + "\r\n"
            if text.hasPrefix(".") { text = "." + text }
            text = text.replacingOccurrences(of: "\r\n.", with: "\r\n..")
            try await write(text + ".\r\n", during: "the message")
            try await expect(250, during: "the message")
        }
    }
}
