import Hummingbird
import NIOCore
import Realtime

/// An HTTP API failure with the contract's body: `{"error": {"code": "...", "message": "..."}}`.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var retryAfterSeconds: Int64?

    init(_ status: HTTPResponse.Status, code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ error: ProtocolError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .badRequest, .alreadySubscribed, .notSubscribed, .tooManySubscriptions, .unknownOp: .badRequest
            case .unknownChannel: .notFound
            case .forbidden: .forbidden
            case .unauthorized: .unauthorized
            case .internal: .internalServerError
            }
        self.init(status, code: error.code.rawValue, error.message)
    }

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized",
        "missing or wrong API key: send 'Authorization: Bearer <key>' or '?token=<key>'"
    )

    /// `{"error": {"code": ..., "message": ...}}`, the one error body of the HTTP API.
    static func body(code: String, message: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.raw("{\"error\":{\"code\":")
        writer.string(code)
        writer.raw(",\"message\":")
        writer.string(message)
        writer.raw("}}")
        return writer.bytes
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let bytes = Self.body(code: code, message: message)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfterSeconds { headers[.retryAfter] = "\(retryAfterSeconds)" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
