import Logging
import NIOCore
import Realtime
import ServiceLifecycle

/// The broker the configuration asks for — Redis with `--redis-url`, in-process otherwise — the
/// replica coordination that goes with it, and the services that keep them running. Listed first in
/// the service group, so they stop last.
struct BrokerChoice {
    let broker: any Broker
    /// Who runs the once-per-cluster producers (always this process without Redis).
    let coordination: ReplicaCoordination
    let services: [ServiceGroupConfiguration.ServiceConfiguration]

    init(_ configuration: ServerConfiguration, registry: ChannelRegistry, group: any EventLoopGroup, logger: Logger) {
        if let url = configuration.redisURL {
            var options = RedisBroker.Options()
            options.probeInterval = configuration.redisProbeInterval
            options.stuckAfter = configuration.redisProbeInterval * 3
            var brokerLogger = logger
            brokerLogger[metadataKey: "replica"] = "\(configuration.replicaID)"
            let redis = RedisBroker(url: url, replicaID: configuration.replicaID, registry: registry, options: options, group: group, logger: brokerLogger)
            broker = redis
            coordination = ReplicaCoordination(
                redis: url, replicaID: configuration.replicaID, leaseTTL: max(.seconds(3), configuration.redisProbeInterval * 6), group: group,
                logger: brokerLogger
            )
            services = [.init(service: redis), .init(service: coordination)]
        } else {
            let local = InProcessBroker()
            broker = local
            coordination = ReplicaCoordination(logger: logger)
            services = [.init(service: BrokerMaintenance(broker: local, registry: registry, interval: .seconds(60)))]
        }
    }
}
