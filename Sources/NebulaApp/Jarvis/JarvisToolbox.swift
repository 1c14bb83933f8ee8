import Jarvis
import NIOConcurrencyHelpers
import Store

/// The tools Jarvis has and the policy over them as configured in the store (admins change
/// single tools' decisions; the rest follow their tier's default).
final class JarvisToolbox: Sendable {
    let catalog: ToolCatalog
    let calls: ToolCallRepository
    /// Read at most every `cacheFor`, like the provider chain: another replica's edit shows up that much later.
    private let cached = NIOLockedValueBox<(policy: ToolPolicy, at: ContinuousClock.Instant)?>(nil)
    static let cacheFor: Duration = .seconds(2)

    init(catalog: ToolCatalog, calls: ToolCallRepository) {
        self.catalog = catalog
        self.calls = calls
    }

    func policy() async throws -> ToolPolicy {
        if let (policy, at) = cached.withLockedValue({ $0 }), ContinuousClock.now - at < Self.cacheFor { return policy }
        var overrides: [String: ToolPolicy.Decision] = [:]
        for (tool, decision) in try await calls.policyOverrides() {
            if let decision = ToolPolicy.Decision(rawValue: decision) { overrides[tool] = decision }
        }
        let policy = ToolPolicy(overrides: overrides)
        cached.withLockedValue { $0 = (policy, .now) }
        return policy
    }

    func replacePolicy(_ overrides: [String: ToolPolicy.Decision], by actor: String) async throws {
        try await calls.replacePolicy(overrides.mapValues(\.rawValue), by: actor, at: Clock.nowMilliseconds())
        cached.withLockedValue { $0 = nil }
    }
}
