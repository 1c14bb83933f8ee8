import Hummingbird
import Jarvis
import Realtime
import Store

/// `/api/v1/jarvis/providers` (admins): the provider chain in priority order. Keys go in, are
/// sealed by the secret vault, and never come back out — the list says only whether one is set.
struct JarvisProviderRoutes {
    let providers: JarvisProviders
    let authenticator: any Authenticator
    let audit: any AuditSink

    static let maxProviders = 16

    func register(on router: Router<NebulaRequestContext>) {
        let group = router.group("api/v1/jarvis/providers")
        group.get { request, _ in try await list(request) }
        group.put { request, context in try await replace(request, context: context) }
    }

    private func list(_ request: Request) async throws -> Response {
        _ = try await request.admin(using: authenticator, to: "reading the Jarvis providers")
        return .json(try await listing())
    }

    private func replace(_ request: Request, context: NebulaRequestContext) async throws -> Response {
        let principal = try await request.admin(using: authenticator, to: "configuring the Jarvis providers")
        let body = try await request.jsonObject(upTo: 64 * 1024, expecting: "{\"providers\": [{\"name\", \"base_url\", \"model\", …}]}")
        guard case .array(let entries)? = body["providers"], entries.count <= Self.maxProviders else {
            throw APIError(.badRequest, code: "bad_request", "field 'providers' must be an array of at most \(Self.maxProviders) providers")
        }
        let existing = Dictionary(try await providers.records().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var records: [JarvisProviderRecord] = []
        for entry in entries {
            let record = try await self.record(from: entry, existing: existing)
            guard !records.contains(where: { $0.name == record.name }) else {
                throw APIError(.badRequest, code: "bad_request", "provider '\(record.name)' is listed twice")
            }
            records.append(record)
        }
        try await providers.replace(with: records)
        try await audit.append(principal.audit(
            "jarvis.providers.put", target: records.map(\.name).joined(separator: ","), from: context.clientAddress))
        return .json(try await listing())
    }

    private func record(from entry: JSONValue, existing: [String: JarvisProviderRecord]) async throws -> JarvisProviderRecord {
        guard entry.isObject else { throw APIError(.badRequest, code: "bad_request", "each provider is an object") }
        let name = try entry.requiredString("name")
        guard (1...64).contains(name.utf8.count), name.utf8.allSatisfy(Self.isNameByte) else {
            throw APIError(.badRequest, code: "bad_request", "a provider name is 1-64 characters of A-Z a-z 0-9 . _ -")
        }
        let baseURL = try entry.requiredString("base_url")
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://"), baseURL.utf8.count <= 512 else {
            throw APIError(.badRequest, code: "bad_request", "provider '\(name)': base_url must be an http:// or https:// URL")
        }
        let model = try entry.requiredString("model")
        guard (1...200).contains(model.utf8.count) else {
            throw APIError(.badRequest, code: "bad_request", "provider '\(name)': model must be 1-200 characters")
        }
        var sealedKey: [UInt8]?
        if let key = try entry.optionalString("api_key"), !key.isEmpty {
            sealedKey = try providers.sealKey(key, provider: name)
        } else if try entry.optionalBool("keep_key") == true {
            sealedKey = existing[name]?.sealedKey
        }
        return JarvisProviderRecord(
            name: name, baseURL: baseURL, model: model, sealedKey: sealedKey,
            connectTimeoutMilliseconds: try Self.milliseconds(entry, "connect_timeout_ms", default: 5_000, provider: name),
            firstTokenTimeoutMilliseconds: try Self.milliseconds(entry, "first_token_timeout_ms", default: 60_000, provider: name),
            idleTimeoutMilliseconds: try Self.milliseconds(entry, "idle_timeout_ms", default: 30_000, provider: name),
            maxTokens: try Self.maxTokens(entry, provider: name))
    }

    private func listing() async throws -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"result\":{\"providers\":[")
        for (i, record) in try await providers.records().enumerated() {
            if i > 0 { w.raw(",") }
            w.raw("{\"name\":")
            w.string(record.name)
            w.raw(",\"base_url\":")
            w.string(record.baseURL)
            w.raw(",\"model\":")
            w.string(record.model)
            w.raw(",\"has_key\":")
            w.bool(record.sealedKey != nil)
            w.raw(",\"connect_timeout_ms\":")
            w.integer(record.connectTimeoutMilliseconds)
            w.raw(",\"first_token_timeout_ms\":")
            w.integer(record.firstTokenTimeoutMilliseconds)
            w.raw(",\"idle_timeout_ms\":")
            w.integer(record.idleTimeoutMilliseconds)
            w.raw(",\"max_tokens\":")
            if let maxTokens = record.maxTokens { w.integer(maxTokens) } else { w.raw("null") }
            w.raw(",\"breaker\":")
            switch providers.breaker(for: record).currentState {
            case .closed(let failures):
                w.raw("{\"state\":\"closed\",\"consecutive_failures\":")
                w.integer(failures)
                w.raw("}")
            case .open: w.raw("{\"state\":\"open\"}")
            case .halfOpen: w.raw("{\"state\":\"half_open\"}")
            }
            w.raw("}")
        }
        w.raw("]}}")
        return w.bytes
    }

    static func milliseconds(_ entry: JSONValue, _ field: String, default fallback: Int64, provider: String) throws -> Int64 {
        try integer(entry, field, in: 100...600_000, provider: provider) ?? fallback
    }

    static func maxTokens(_ entry: JSONValue, provider: String) throws -> Int64? {
        try integer(entry, "max_tokens", in: 1...131_072, provider: provider)
    }

    /// An optional integer field within `range`; absent or null is nil, anything else a 400 naming it.
    static func integer(_ entry: JSONValue, _ field: String, in range: ClosedRange<Int64>, provider: String) throws -> Int64? {
        switch entry[field] {
        case nil, .some(.null): return nil
        case .some(let value):
            guard let number = value.int64Value, range.contains(number) else {
                throw APIError(
                    .badRequest, code: "bad_request",
                    "provider '\(provider)': \(field) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
