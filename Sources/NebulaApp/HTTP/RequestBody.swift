import Hummingbird
import NIOCore
import Realtime

extension Request {
    /// The body as a JSON object, or the contract's 400 saying what was expected.
    /// `allowEmpty`: a request without a body reads as `{}` (for endpoints whose fields are all optional).
    func jsonObject(upTo limit: Int = 16 * 1024, expecting shape: String, allowEmpty: Bool = false) async throws -> JSONValue {
        var request = self
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "bad_request", "body over \(limit) bytes")
        }
        if allowEmpty, body.readableBytes == 0 { return .object([]) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(buffer: body))
        } catch {
            throw APIError(.badRequest, code: "bad_request", "body is not valid JSON (\(error)); expected \(shape)")
        }
        guard value.isObject else { throw APIError(.badRequest, code: "bad_request", "body must be a JSON object: \(shape)") }
        return value
    }
}

extension JSONValue {
    /// A required string field, or a 400 naming it.
    func requiredString(_ field: String) throws -> String {
        guard let text = self[field]?.stringValue else {
            throw APIError(.badRequest, code: "bad_request", "field '\(field)' (a string) is required")
        }
        return text
    }

    /// An optional string field: absent or null is nil, anything else but a string is a 400.
    func optionalString(_ field: String) throws -> String? {
        switch self[field] {
        case nil, .some(.null): return nil
        case .some(.string(let text)): return text
        default: throw APIError(.badRequest, code: "bad_request", "field '\(field)' must be a string")
        }
    }

    func optionalBool(_ field: String) throws -> Bool? {
        switch self[field] {
        case nil, .some(.null): return nil
        case .some(.bool(let value)): return value
        default: throw APIError(.badRequest, code: "bad_request", "field '\(field)' must be true or false")
        }
    }
}

extension Request {
    /// The principal, if it has the admin scope; 401 or 403 otherwise.
    func admin(using authenticator: any Authenticator, to purpose: String) async throws -> Principal {
        let principal = try await principal(using: authenticator)
        guard principal.has(.admin) else { throw APIError(.forbidden, code: "forbidden", "\(purpose) needs the admin role or scope") }
        return principal
    }
}
