import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Telemetry

/// Sends alerts to every target, each on its own queue: a target that is slow or down retries with
/// backoff on its own and never delays the others. A queue holds at most `maxQueued` messages; past
/// that the oldest are dropped (and logged), so a dead target cannot grow memory.
public final class Notifier: Sendable {
    public struct Policy: Sendable {
        public var attempts: Int
        public var firstBackoff: Duration
        public var timeout: Duration
        public var maxQueued: Int

        public init(attempts: Int = 5, firstBackoff: Duration = .seconds(1), timeout: Duration = .seconds(10), maxQueued: Int = 100) {
            self.attempts = attempts
            self.firstBackoff = firstBackoff
            self.timeout = timeout
            self.maxQueued = maxQueued
        }
    }

    /// What happened to the last message of a target, for `/healthz`-style reports and tests.
    public struct TargetStatus: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        public var lastError: String?
    }

    let targets: [NotificationTarget]
    let http: HTTPClient
    let eventLoopGroup: any EventLoopGroup
    let policy: Policy
    let server: String
    let logger: Logger
    private let queues: [AsyncStream<Alert>.Continuation]
    private let streams: [AsyncStream<Alert>]
    private let statuses: NIOLockedValueBox<[TargetStatus]>

    public init(targets: [NotificationTarget], eventLoopGroup: any EventLoopGroup, server: String, policy: Policy = Policy(), logger: Logger) {
        self.targets = targets
        self.http = HTTPClient(eventLoopGroup: eventLoopGroup)
        self.eventLoopGroup = eventLoopGroup
        self.policy = policy
        self.server = server
        self.logger = logger
        var queues: [AsyncStream<Alert>.Continuation] = []
        var streams: [AsyncStream<Alert>] = []
        for _ in targets {
            let (stream, continuation) = AsyncStream<Alert>.makeStream(bufferingPolicy: .bufferingNewest(policy.maxQueued))
            streams.append(stream)
            queues.append(continuation)
        }
        self.queues = queues
        self.streams = streams
        self.statuses = NIOLockedValueBox(Array(repeating: TargetStatus(), count: targets.count))
    }

    public var status: [TargetStatus] { statuses.withLockedValue { $0 } }

    /// Queues the alert for every target; returns at once.
    public func send(_ alert: Alert) {
        for queue in queues {
            if case .dropped = queue.yield(alert) {
                logger.warning("notification queue full: dropped the oldest", metadata: ["alert": "\(alert.key)"])
            }
        }
    }

    /// Delivers until cancelled; then stops the HTTP client.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (index, stream) in streams.enumerated() {
                group.addTask { await self.deliver(stream, to: index) }
            }
            await group.waitForAll()
        }
        try? await http.shutdown()
    }

    public func finish() {
        for queue in queues { queue.finish() }
    }

    private func deliver(_ stream: AsyncStream<Alert>, to index: Int) async {
        let target = targets[index]
        for await alert in stream {
            var backoff = policy.firstBackoff
            for attempt in 1...max(1, policy.attempts) {
                do {
                    try await deliver(alert, to: target)
                    statuses.withLockedValue { $0[index].delivered += 1; $0[index].lastError = nil }
                    break
                } catch {
                    let final = attempt == policy.attempts || Task.isCancelled
                    logger.warning("notification failed", metadata: [
                        "target": "\(target)", "alert": "\(alert.key)", "attempt": "\(attempt)", "error": "\(error)", "final": "\(final)",
                    ])
                    statuses.withLockedValue { $0[index].lastError = "\(error)" }
                    if final {
                        statuses.withLockedValue { $0[index].failed += 1 }
                        break
                    }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(60))
                }
            }
        }
    }

    struct DeliveryError: Error, CustomStringConvertible {
        let status: UInt
        var description: String { "answered HTTP \(status)" }
    }

    private func deliver(_ alert: Alert, to target: NotificationTarget) async throws {
        if let smtp = target.smtp {
            let client = SMTPClient(settings: smtp, eventLoopGroup: eventLoopGroup, clientName: Hostname.current(), timeout: policy.timeout)
            try await client.send(EmailMessage(for: alert, from: smtp.from, to: smtp.to, server: server))
        } else {
            try await post(NotificationMessage(for: alert, kind: target.kind, server: server), to: target)
        }
    }

    private func post(_ message: NotificationMessage, to target: NotificationTarget) async throws {
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        for (name, value) in message.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: message.body))
        let seconds = Int64(policy.timeout.components.seconds)
        let response = try await http.execute(request, timeout: .seconds(max(1, seconds)))
        _ = try await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw DeliveryError(status: response.status.code) }
    }
}
