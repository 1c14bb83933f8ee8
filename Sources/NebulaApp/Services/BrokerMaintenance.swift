import Logging
import Realtime
import ServiceLifecycle

/// Forgets in-process channels that nobody listens to and that have been quiet for an hour with
/// their history expired; checked once a minute.
struct BrokerMaintenance: Service {
    let broker: InProcessBroker
    let registry: ChannelRegistry
    let interval: Duration

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            let registry = self.registry
            broker.prune(idle: .seconds(3600)) { name in try? registry.family(for: name).policy }
        }
    }
}
