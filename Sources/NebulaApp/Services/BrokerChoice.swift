import Logging
import NIOCore
import Realtime
import ServiceLifecycle

/// The broker the configuration asks for — Redis with `--redis-url`, in-process otherwise — and the
/// services that keep it running. Listed first in the service group, so it stops last.
struct BrokerChoice {
    let broker: any Broker
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
            services = [.init(service: redis)]
        } else {
            let local = InProcessBroker()
            broker = local
            services = [.init(service: BrokerMaintenance(broker: local, registry: registry, interval: .seconds(60)))]
        }
    }
}
