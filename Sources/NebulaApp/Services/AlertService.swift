import Alerts
import Foundation
import Logging
import NIOConcurrencyHelpers
import Realtime
import ServiceLifecycle
import Store
import Telemetry

/// Evaluates the alert rules against the latest telemetry every interval. A transition (fired,
/// resolved) is stored, published on `alerts`, and handed to the notifier, which sends it to every
/// target on its own queue.
final class AlertService: Service, Sendable {
    static let channel = "alerts"

    let rules: [AlertRule]
    let interval: Duration
    let storage: StorageService
    let containers: ContainerTelemetryService
    let repository: AlertRepository
    let notifier: Notifier
    let hub: Hub
    let logger: Logger
    private let evaluator = NIOLockedValueBox(AlertEvaluator())
    private let restarts = NIOLockedValueBox(RestartHistory())
    let coordination: ReplicaCoordination

    init(
        rules: [AlertRule], interval: Duration, storage: StorageService, containers: ContainerTelemetryService, repository: AlertRepository,
        notifier: Notifier, hub: Hub, coordination: ReplicaCoordination, logger: Logger
    ) {
        self.coordination = coordination
        self.rules = rules
        self.interval = interval
        self.storage = storage
        self.containers = containers
        self.repository = repository
        self.notifier = notifier
        self.hub = hub
        self.logger = logger
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // Shutdown cancels deliveries in flight and retries waiting for their back-off: the
            // alert itself is stored, and nothing may hold the process past its stop signal.
            group.addTask { try? await cancelWhenGracefulShutdown { await self.notifier.run() } }
            group.addTask {
                var leading = false
                while !Task.isCancelledOrShuttingDown {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
                    if Task.isCancelledOrShuttingDown { break }
                    // With replicas one evaluates for the cluster: one notification per alert. A
                    // replica taking over starts from the alerts the previous one left firing.
                    guard self.coordination.isLeader else {
                        leading = false
                        continue
                    }
                    if !leading {
                        leading = true
                        await self.restoreFiring()
                    }
                    await self.evaluate()
                }
                self.notifier.finish()
            }
            await group.waitForAll()
        }
    }

    private func restoreFiring() async {
        do {
            let open = try await repository.firing().map(Self.alert)
            // What this replica knew from an earlier turn is stale: the stored alerts are the truth.
            evaluator.withLockedValue { evaluator in
                evaluator = AlertEvaluator()
                evaluator.restore(open)
            }
        } catch {
            logger.error("firing alerts not restored", metadata: ["error": "\(error)"])
        }
    }

    func evaluate(now: Int64 = Clock.nowMilliseconds()) async {
        let filesystems = storage.snapshot.filesystems
        let snapshot = containers.snapshot
        // Without an engine nothing is known about containers: keep their alerts as they are
        // rather than resolving them all because the list is empty.
        let containerRules = snapshot?.engine.status == "ok"
        let activeRules = rules.filter { rule in
            if case .filesystemUsedPercent = rule.condition { return !filesystems.isEmpty }
            return containerRules
        }
        guard !activeRules.isEmpty else { return }
        let history = restarts.withLockedValue { history in
            if containerRules { history.record(snapshot?.containers ?? [], now: now) }
            return history
        }
        let observations = Observations.of(filesystems: filesystems, containers: snapshot?.containers ?? [], rules: activeRules, restarts: history)
        let transitions = evaluator.withLockedValue { $0.evaluate(observations, now: now) }
        for transition in transitions {
            await record(transition)
        }
    }

    private func record(_ transition: AlertEvaluator.Transition) async {
        var alert: Alert
        do {
            switch transition {
            case .fired(let fired):
                alert = fired
                alert.id = try await repository.insert(Self.record(fired)).id
                evaluator.withLockedValue { $0.assignID(alert.id, to: alert.key) }
            case .resolved(let resolved):
                alert = resolved
                try await repository.resolve(id: resolved.id, at: resolved.resolvedAt ?? Clock.nowMilliseconds(), summary: resolved.summary, value: resolved.value)
            }
        } catch {
            logger.error("alert not stored", metadata: ["error": "\(error)"])
            return
        }
        logger.notice("alert \(alert.state.rawValue)", metadata: ["key": "\(alert.key)", "summary": "\(alert.summary)"])
        do {
            try await hub.publish(Self.json(alert), to: Self.channel, by: .server)
        } catch {
            logger.error("alert not published", metadata: ["error": "\(error)"])
        }
        notifier.send(alert)
    }

    static func json(_ alert: Alert) -> JSONValue {
        .object([
            ("id", .number(String(alert.id))), ("key", .string(alert.key)), ("rule", .string(alert.rule)),
            ("severity", .string(alert.severity.rawValue)), ("subject", .string(alert.subject)), ("state", .string(alert.state.rawValue)),
            ("summary", .string(alert.summary)), ("value", alert.value.map { .number(String($0)) } ?? .null),
            ("since", .number(String(alert.since))), ("fired_at", .number(String(alert.firedAt))),
            ("resolved_at", alert.resolvedAt.map { .number(String($0)) } ?? .null),
        ])
    }

    static func record(_ alert: Alert) -> AlertRecord {
        AlertRecord(
            id: alert.id, key: alert.key, rule: alert.rule, severity: alert.severity.rawValue, subject: alert.subject, state: alert.state.rawValue,
            summary: alert.summary, value: alert.value, since: alert.since, firedAt: alert.firedAt, resolvedAt: alert.resolvedAt
        )
    }

    static func alert(_ record: AlertRecord) -> Alert {
        Alert(
            id: record.id, key: record.key, rule: record.rule, severity: AlertRule.Severity(rawValue: record.severity) ?? .warning,
            subject: record.subject, state: Alert.State(rawValue: record.state) ?? .firing, summary: record.summary, value: record.value,
            since: record.since, firedAt: record.firedAt, resolvedAt: record.resolvedAt
        )
    }
}
