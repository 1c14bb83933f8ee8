import NIOConcurrencyHelpers
import NIOCore

/// One connected client: who it is, what it is subscribed to, and where its messages go.
///
/// The session is the place that guarantees "after the subscribe reply, every later publication
/// exactly once, in order": deliveries that race with a subscribe are held until its reply is
/// queued, and anything at or below the position the reply announced is dropped.
public final class Session: Sendable {
    private struct Subscription {
        var position: StreamPosition
        /// Publications delivered while the subscribe reply was still being prepared.
        var pending: [Publication]?
    }

    public let id: UInt64
    public let principal: Principal
    public let transport: any OutboundTransport
    private let subscriptions = NIOLockedValueBox([String: Subscription]())

    public init(id: UInt64, principal: Principal, transport: any OutboundTransport) {
        self.id = id
        self.principal = principal
        self.transport = transport
    }

    public var eventLoop: (any EventLoop)? { transport.eventLoop }

    public var subscriptionCount: Int { subscriptions.withLockedValue { $0.count } }

    public func isSubscribed(to channel: String) -> Bool {
        subscriptions.withLockedValue { $0[channel] != nil }
    }

    public var channels: [String] { subscriptions.withLockedValue { Array($0.keys) } }

    public func send(_ message: OutboundMessage) {
        transport.send(message)
    }

    /// Registers a subscription in the pending state. False if it already exists.
    func beginSubscription(_ channel: String) -> Bool {
        subscriptions.withLockedValue { subscriptions in
            guard subscriptions[channel] == nil else { return false }
            subscriptions[channel] = Subscription(position: StreamPosition(epoch: "", offset: 0), pending: [])
            return true
        }
    }

    /// Queues the subscribe reply, then whatever arrived meanwhile and is newer than the reply's position.
    func completeSubscription(_ channel: String, at position: StreamPosition, reply: OutboundMessage) {
        subscriptions.withLockedValue { subscriptions in
            guard var subscription = subscriptions[channel] else { return }
            transport.send(reply)
            subscription.position = position
            for publication in subscription.pending ?? [] where Self.isNew(publication, after: subscription.position) {
                subscription.position = publication.position
                transport.send(publication.message)
            }
            subscription.pending = nil
            subscriptions[channel] = subscription
        }
    }

    /// Removes the subscription; false if there was none.
    @discardableResult
    func endSubscription(_ channel: String) -> Bool {
        subscriptions.withLockedValue { $0.removeValue(forKey: channel) != nil }
    }

    /// Removes the subscription unless its subscribe reply is still being prepared.
    func endSettledSubscription(_ channel: String) -> Bool {
        subscriptions.withLockedValue { subscriptions in
            guard let subscription = subscriptions[channel], subscription.pending == nil else { return false }
            subscriptions[channel] = nil
            return true
        }
    }

    func endAllSubscriptions() -> [String] {
        subscriptions.withLockedValue { subscriptions in
            defer { subscriptions.removeAll() }
            return Array(subscriptions.keys)
        }
    }

    /// Called by the hub's fan-out, usually on this session's event loop. Mutates the subscription
    /// in place: this runs once per subscriber per publication.
    func deliver(_ publication: Publication, flush: FlushTiming = .deferred) {
        subscriptions.withLockedValue { subscriptions in
            guard let index = subscriptions.index(forKey: publication.channel) else { return }
            if subscriptions.values[index].pending != nil {
                subscriptions.values[index].pending!.append(publication)
            } else if Self.isNew(publication, after: subscriptions.values[index].position) {
                subscriptions.values[index].position = publication.position
                transport.send(publication.message, flush: flush)
            }
        }
    }

    /// A publication from another epoch means the broker lost history; it is delivered, and the
    /// subscription follows the new epoch.
    private static func isNew(_ publication: Publication, after position: StreamPosition) -> Bool {
        publication.position.epoch != position.epoch || publication.offset > position.offset
    }
}
