/// The `code` of an error reply, as listed in docs/protocol.md.
public enum ErrorCode: String, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case unknownOp = "unknown_op"
    case unknownChannel = "unknown_channel"
    case forbidden
    case alreadySubscribed = "already_subscribed"
    case notSubscribed = "not_subscribed"
    case tooManySubscriptions = "too_many_subscriptions"
    case unauthorized
    case `internal`
}

/// A refused command: what went wrong, for which command, in words a client developer can act on.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static let binaryFrame = ProtocolError(.badRequest, "binary frames are not part of protocol v1; send JSON text frames")
}
