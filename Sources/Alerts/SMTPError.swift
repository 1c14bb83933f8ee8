/// Why an e-mail could not be handed to the relay, with the step and the relay's own words.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The relay answered a step with an unexpected code.
    case rejected(step: String, code: Int, text: String)
    /// `smtp://` without `?tls=none`, and the relay does not offer STARTTLS.
    case startTLSUnavailable(host: String)
    /// Credentials are configured but the relay offers neither AUTH PLAIN nor AUTH LOGIN.
    case authenticationUnavailable(host: String)
    /// A reply line that is not `NNN text`, or one longer than any relay sends.
    case malformedReply(String)
    /// The connection closed (or timed out) before the conversation finished.
    case closed(step: String)

    public var description: String {
        switch self {
        case .rejected(let step, let code, let text): "the relay rejected \(step): \(code) \(text)"
        case .startTLSUnavailable(let host): "\(host) does not offer STARTTLS (use smtps:// or, on a trusted network, ?tls=none)"
        case .authenticationUnavailable(let host): "\(host) offers neither AUTH PLAIN nor AUTH LOGIN"
        case .malformedReply(let line): "malformed SMTP reply: \(line.prefix(200))"
        case .closed(let step): "the connection closed during \(step)"
        }
    }
}
