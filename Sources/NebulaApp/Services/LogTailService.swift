import Docker
import Foundation
import Logging
import NIOConcurrencyHelpers
import Realtime
import ServiceLifecycle

/// Live container logs on `logs.<container>` (id or name). A container's log is followed only while
/// someone is subscribed: the first subscriber starts the tail (the last lines, then new ones), the
/// last one leaving stops it. Following again later resumes after the last line published (found in
/// the channel's history), so the history never repeats a line. With replicas, the leading replica
/// follows every log that has subscribers anywhere in the cluster, and the others follow none: one
/// tail per container, whichever replica its watchers are on.
final class LogTailService: Service, Sendable {
    static let prefix = "logs."
    /// Lines published when a tail starts fresh.
    static let initialLines = 100

    let client: DockerClient
    let hub: Hub
    let coordination: ReplicaCoordination
    let logger: Logger
    private let tails = NIOLockedValueBox([String: Task<Void, Never>]())
    /// Channels with subscribers on this replica.
    private let localInterest = NIOLockedValueBox(Set<String>())
    /// Per channel, the engine time of the newest line published.
    private let resumeAfter = NIOLockedValueBox([String: LogTimestamp]())

    init(client: DockerClient, hub: Hub, coordination: ReplicaCoordination, logger: Logger) {
        self.client = client
        self.hub = hub
        self.coordination = coordination
        self.logger = logger
        hub.observeInterest(prefix: Self.prefix) { [weak self] channel, interested in
            guard let self else { return }
            self.localInterest.withLockedValue { if interested { $0.insert(channel) } else { $0.remove(channel) } }
            guard !coordination.isClustered else { return }
            if interested { self.start(channel) } else { self.stop(channel) }
        }
    }

    func run() async throws {
        if coordination.isClustered {
            while !Task.isCancelledOrShuttingDown {
                await followClusterInterest()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
            }
        } else {
            try? await gracefulShutdown()
        }
        let running = tails.withLockedValue { tails in
            defer { tails.removeAll() }
            return Array(tails.values)
        }
        for task in running { task.cancel() }
    }

    /// How many tails run now (the tests watch this through `/metrics`-free means: the channel).
    var activeCount: Int { tails.withLockedValue { $0.count } }

    /// The leader follows the logs watched on any replica (Redis knows which pub/sub channels have
    /// subscribers); a replica that is not the leader follows none.
    private func followClusterInterest() async {
        var wanted = Set<String>()
        if coordination.isLeader {
            guard let watched = await coordination.channelsWatched(prefix: Self.prefix) else { return }
            wanted = watched.union(localInterest.withLockedValue { $0 })
        }
        let running = Set(tails.withLockedValue { $0.keys })
        for channel in wanted.subtracting(running) { start(channel) }
        for channel in running.subtracting(wanted) { stop(channel) }
    }

    private func start(_ channel: String) {
        tails.withLockedValue { tails in
            guard tails[channel] == nil else { return }
            tails[channel] = Task { await self.follow(channel) }
        }
    }

    private func stop(_ channel: String) {
        tails.withLockedValue { $0.removeValue(forKey: channel) }?.cancel()
    }

    private func follow(_ channel: String) async {
        let container = String(channel.dropFirst(Self.prefix.count))
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let details = try await client.details(container)
                if resumeAfter.withLockedValue({ $0[channel] }) == nil, let last = await lastPublishedLine(channel) {
                    resumeAfter.withLockedValue { $0[channel] = last }
                }
                let since = resumeAfter.withLockedValue { $0[channel] }
                let stream = client.logs(
                    container, tail: since == nil ? Self.initialLines : nil, follow: true, tty: details.tty, timestamps: true,
                    since: since?.sinceParameter
                )
                for try await batch in stream {
                    backoff.reset()
                    try await publish(batch, to: channel, after: since)
                }
                // The engine ends a follow when the container stops; wait for it to run again.
            } catch DockerError.notFound {
                try? await hub.publish(.object([("error", .string("no container '\(container)'"))]), to: channel, by: .server)
                return
            } catch is CancellationError {
                return
            } catch {
                logger.debug("log tail interrupted", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            try? await Task.sleep(for: backoff.next())
        }
    }

    /// The time of the newest line still in the channel's history (published by this replica or,
    /// with replicas, by the one that followed the log before).
    private func lastPublishedLine(_ channel: String) async -> LogTimestamp? {
        guard let recovery = try? await hub.history(of: channel, limit: 1, for: .server), let newest = recovery.publications.last,
            case .object(let fields)? = try? JSONParser.parse(newest.data),
            case .array(let lines)? = fields.first(where: { $0.0 == "lines" })?.1
        else { return nil }
        return lines.compactMap { line -> LogTimestamp? in
            guard case .object(let members) = line, case .string(let ts)? = members.first(where: { $0.0 == "ts" })?.1 else { return nil }
            return LogTimestamp(ts)
        }.max()
    }

    /// `resumedAfter`: where this follow started. Resuming with `since` has one-second resolution on
    /// some engines, so lines up to that point were published before and are dropped. Later lines
    /// all pass, whatever their order: stdout and stderr lines are stamped by separate readers in
    /// the engine, so their timestamps may interleave out of order by microseconds.
    private func publish(_ batch: [LogLine], to channel: String, after resumedAfter: LogTimestamp?) async throws {
        var lines: [JSONValue] = []
        var newest = resumeAfter.withLockedValue { $0[channel] }
        for line in batch {
            let (timestamp, text) = LogTimestamp.split(line.text)
            if let timestamp, let resumedAfter, timestamp <= resumedAfter { continue }
            if let timestamp, newest.map({ timestamp > $0 }) ?? true { newest = timestamp }
            lines.append(.object([
                ("ts", timestamp.map { .string($0.text) } ?? .null), ("stream", .string(line.stream.rawValue)), ("text", .string(text)),
            ]))
        }
        guard !lines.isEmpty else { return }
        resumeAfter.withLockedValue { $0[channel] = newest }
        try await hub.publish(.object([("lines", .array(lines))]), to: channel, by: .server)
    }
}

/// The engine's RFC 3339 time at the start of a log line, with nanoseconds, comparable.
struct LogTimestamp: Comparable, Sendable {
    let seconds: Int64
    let nanoseconds: Int64
    let text: String

    /// `2026-11-22T00:32:58.3067867Z text` → the time and `text`; nil time when the line has none.
    static func split(_ line: String) -> (LogTimestamp?, String) {
        guard let space = line.firstIndex(of: " "), let stamp = LogTimestamp(String(line[..<space])) else { return (nil, line) }
        return (stamp, String(line[line.index(after: space)...]))
    }

    init?(_ text: String) {
        guard text.hasSuffix("Z"), text.count >= 20 else { return nil }
        let body = text.dropLast()
        let parts = body.split(separator: ".", maxSplits: 1)
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: String(parts[0]) + "Z") else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let digits = String(parts[1].prefix(9))
            guard digits.allSatisfy(\.isNumber) else { return nil }
            nanos = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        seconds = Int64(date.timeIntervalSince1970)
        nanoseconds = nanos
        self.text = text
    }

    /// For the logs API's `since`: Unix seconds with nanoseconds.
    var sinceParameter: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }

    static func < (a: LogTimestamp, b: LogTimestamp) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
    static func == (a: LogTimestamp, b: LogTimestamp) -> Bool { a.seconds == b.seconds && a.nanoseconds == b.nanoseconds }
}
