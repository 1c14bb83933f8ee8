import NIOCore
import Realtime

/// Hears `answer.cancel` on a conversation's channel while this replica works on a question (its
/// answers, and the tools between them): the replica that received the user's cancel may be another
/// one, and it publishes the request on the channel, which reaches every replica through the broker.
final class AnswerCancelListener: OutboundTransport, Sendable {
    static let requestType = "answer.cancel"

    /// The question's first answer; its later answers have greater ids.
    private let firstAnswerID: Int64
    private let onCancel: @Sendable () -> Void

    init(fromAnswerID firstAnswerID: Int64, onCancel: @escaping @Sendable () -> Void) {
        self.firstAnswerID = firstAnswerID
        self.onCancel = onCancel
    }

    var eventLoop: (any EventLoop)? { nil }

    func send(_ message: OutboundMessage) {
        guard let json = try? JSONParser.parse(Array(message.payload.readableBytesView)),
            let data = json["data"], data["type"]?.stringValue == Self.requestType, (data["answer"]?.int64Value ?? 0) >= firstAnswerID
        else { return }
        onCancel()
    }

    func close(code: UInt16, reason: String) {}

    static func request(answerID: Int64) -> JSONValue {
        .object([("type", .string(requestType)), ("answer", .number(String(answerID)))])
    }
}
