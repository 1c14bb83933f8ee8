import NIOCore
import Realtime

/// Hears `answer.cancel` for one answer on its conversation's channel while this replica streams
/// it: the replica that received the user's cancel may be another one, and it publishes the request
/// on the channel, which reaches every replica through the broker.
final class AnswerCancelListener: OutboundTransport, Sendable {
    static let requestType = "answer.cancel"

    private let answerID: Int64
    private let onCancel: @Sendable () -> Void

    init(answerID: Int64, onCancel: @escaping @Sendable () -> Void) {
        self.answerID = answerID
        self.onCancel = onCancel
    }

    var eventLoop: (any EventLoop)? { nil }

    func send(_ message: OutboundMessage) {
        guard let json = try? JSONParser.parse(Array(message.payload.readableBytesView)),
            let data = json["data"], data["type"]?.stringValue == Self.requestType, data["answer"]?.int64Value == answerID
        else { return }
        onCancel()
    }

    func close(code: UInt16, reason: String) {}

    static func request(answerID: Int64) -> JSONValue {
        .object([("type", .string(requestType)), ("answer", .number(String(answerID)))])
    }
}
