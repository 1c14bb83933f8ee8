import CoreMetrics
import NIOConcurrencyHelpers

/// The hub's and connections' counters, named as documented for `/metrics`. Backed by
/// swift-metrics, so whichever backend the app bootstraps (Prometheus) receives them.
public struct RealtimeMetrics: Sendable {
    public let connections: GaugeCounter
    public let subscriptions: GaugeCounter
    public let publicationsIn: Counter
    /// Deliveries handed to connections (one per subscriber per publication).
    public let deliveries: Counter
    /// Frames actually written to sockets (publications, replies).
    public let messagesOut: Counter
    public let conflated: Counter
    public let dropped: Counter
    public let slowConsumerCloses: Counter
    public let queueBytes: GaugeCounter

    public init() {
        connections = GaugeCounter("nebula_ws_connections")
        subscriptions = GaugeCounter("nebula_ws_subscriptions")
        publicationsIn = Counter(label: "nebula_publications_in_total")
        deliveries = Counter(label: "nebula_publications_out_total")
        messagesOut = Counter(label: "nebula_ws_messages_out_total")
        conflated = Counter(label: "nebula_messages_conflated_total")
        dropped = Counter(label: "nebula_messages_dropped_total")
        slowConsumerCloses = Counter(label: "nebula_slow_consumer_closes_total")
        queueBytes = GaugeCounter("nebula_ws_outbound_queue_bytes")
    }
}

/// A gauge that moves by increments, keeping its value so it can be read back (for /healthz too).
public final class GaugeCounter: Sendable {
    private let gauge: Gauge
    private let value = NIOLockedValueBox(Int64(0))

    public init(_ label: String) {
        gauge = Gauge(label: label)
    }

    public var current: Int64 { value.withLockedValue { $0 } }

    public func increment(by amount: Int64 = 1) {
        let now = value.withLockedValue { $0 += amount; return $0 }
        gauge.record(now)
    }

    public func decrement(by amount: Int64 = 1) {
        increment(by: -amount)
    }
}
