import Accounts
import AsyncHTTPClient
import Jarvis
import Logging
import NIOConcurrencyHelpers
import Store

/// The provider chain as configured in the store, each provider with a breaker that outlives
/// single requests (and starts afresh when its endpoint or model is edited).
final class JarvisProviders: Sendable {
    private let repository: JarvisProviderRepository
    private let box: SecretBox
    private let client: HTTPClient
    private let logger: Logger
    private let breakerPolicy: CircuitBreaker.Policy
    private let breakers = NIOLockedValueBox([String: CircuitBreaker]())
    /// The chain as last read, and when: asking reads the store at most every `cacheFor` (another
    /// replica's edit shows up that much later; this replica's own at once).
    private let cached = NIOLockedValueBox<(chain: ProviderChain, at: ContinuousClock.Instant)?>(nil)
    static let cacheFor: Duration = .seconds(2)

    init(repository: JarvisProviderRepository, box: SecretBox, client: HTTPClient, breakerPolicy: CircuitBreaker.Policy, logger: Logger) {
        self.repository = repository
        self.box = box
        self.client = client
        self.breakerPolicy = breakerPolicy
        self.logger = logger
    }

    static func keyContext(_ name: String) -> String { "jarvis-provider:\(name)" }

    func sealKey(_ key: String, provider name: String) throws -> [UInt8] {
        try box.seal(key, context: Self.keyContext(name))
    }

    func records() async throws -> [JarvisProviderRecord] {
        try await repository.all()
    }

    func replace(with records: [JarvisProviderRecord]) async throws {
        try await repository.replaceAll(records)
        cached.withLockedValue { $0 = nil }
    }

    /// The configured chain.
    func chain() async throws -> ProviderChain {
        if let (chain, at) = cached.withLockedValue({ $0 }), ContinuousClock.now - at < Self.cacheFor { return chain }
        let chain = try await readChain()
        cached.withLockedValue { $0 = (chain, .now) }
        return chain
    }

    private func readChain() async throws -> ProviderChain {
        let links = try await repository.all().map { record in
            let key = try record.sealedKey.map { try box.openString($0, context: Self.keyContext(record.name)) }
            let configuration = ProviderConfiguration(
                name: record.name, baseURL: record.baseURL, model: record.model, apiKey: key,
                connectTimeout: .milliseconds(record.connectTimeoutMilliseconds),
                firstTokenTimeout: .milliseconds(record.firstTokenTimeoutMilliseconds),
                idleTimeout: .milliseconds(record.idleTimeoutMilliseconds), maxTokens: record.maxTokens.map(Int.init))
            return ProviderChain.Link(
                provider: OpenAICompatibleProvider(configuration: configuration, client: client, logger: logger),
                breaker: breaker(for: record))
        }
        return ProviderChain(links: links)
    }

    /// The breaker of a configured provider, for the providers API.
    func breaker(for record: JarvisProviderRecord) -> CircuitBreaker {
        let identity = "\(record.name)\u{0}\(record.baseURL)\u{0}\(record.model)"
        return breakers.withLockedValue { breakers in
            if let existing = breakers[identity] { return existing }
            let breaker = CircuitBreaker(policy: breakerPolicy)
            breakers[identity] = breaker
            return breaker
        }
    }
}
