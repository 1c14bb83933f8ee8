import Docker
import Foundation

/// Lists the engine's containers and samples the running ones: from their cgroup files where the
/// host's are visible (a few reads each, no engine call), otherwise from the engine concurrently
/// (a bounded number at a time, each with its own deadline), so fifty containers take about as
/// long as one. Keeps each
/// container's previous counters for CPU and rates, and its inspected details until an event or a
/// state change says they are stale.
public actor ContainerCollector {
    let client: DockerClient
    let concurrency: Int
    let sampleTimeout: Duration
    /// The fast path; nil when the engine's stats endpoint is the only source.
    let cgroups: CgroupStatsReader?
    private var previous: [String: ContainerCounters] = [:]
    private var details: [String: (state: String, details: ContainerDetails)] = [:]
    private var lastUsage: [String: ContainerUsage] = [:]
    private var engine: EngineVersion?
    private var listings = 0

    public init(client: DockerClient, cgroups: CgroupStatsReader? = nil, concurrency: Int = 8, sampleTimeout: Duration = .seconds(5)) {
        self.client = client
        self.cgroups = cgroups
        self.concurrency = max(1, concurrency)
        self.sampleTimeout = sampleTimeout
    }

    /// Every container, with fresh usage for the running ones.
    public func collect() async throws(DockerError) -> ContainerSnapshot {
        let started = ContinuousClock.now
        let (summaries, sequence) = try await listing()
        await refreshDetails(summaries)
        let running = summaries.filter { (details[$0.id]?.details.state.status ?? $0.state) == "running" }
        let samples = await sample(running.map { ($0.id, details[$0.id]?.details.state.pid ?? 0) })
        let now = Self.seconds(ContinuousClock.now)
        var usages: [String: ContainerUsage] = [:]
        for (id, (sample, source)) in samples {
            let counters = ContainerCounters(sample, takenAt: now)
            var usage = ContainerUsage(sample, counters: counters, previous: previous[id])
            usage.source = source
            usages[id] = usage
            previous[id] = counters
            // The cgroup could not be read through the process we knew: perhaps it is a new one.
            if source == .engine, cgroups != nil { details[id] = nil }
        }
        let alive = Set(summaries.map(\.id))
        previous = previous.filter { alive.contains($0.key) && usages[$0.key] != nil }
        lastUsage = usages
        return snapshot(reports(for: summaries, usages: usages), started: started, sequence: sequence)
    }

    /// Everything again without new samples: after an event, the new state goes out at once and
    /// the usage numbers stay those of the last interval.
    public func refresh(invalidating containerID: String?) async throws(DockerError) -> ContainerSnapshot {
        let started = ContinuousClock.now
        if let containerID { details[containerID] = nil }
        let (summaries, sequence) = try await listing()
        await refreshDetails(summaries)
        return snapshot(reports(for: summaries, usages: lastUsage), started: started, sequence: sequence)
    }

    /// The snapshot to publish when the engine cannot be reached.
    public func unavailable(_ error: DockerError) -> ContainerSnapshot {
        previous = [:]
        details = [:]
        lastUsage = [:]
        engine = nil
        client.resetNegotiation()
        return ContainerSnapshot(
            engine: .init(status: "unavailable", endpoint: client.endpoint.description, error: "\(error)"),
            collectedAt: Int64(Date().timeIntervalSince1970 * 1000), durationMilliseconds: 0, containers: []
        )
    }

    /// The engine's containers and the order of this listing among all listings.
    private func listing() async throws(DockerError) -> ([ContainerSummary], Int) {
        if engine == nil { engine = try await client.version() }
        listings += 1
        let sequence = listings
        return (try await client.containers(all: true).sorted { $0.name < $1.name }, sequence)
    }

    private func snapshot(_ reports: [ContainerReport], started: ContinuousClock.Instant, sequence: Int) -> ContainerSnapshot {
        let elapsed = ContinuousClock.now - started
        var snapshot = ContainerSnapshot(
            engine: .init(status: "ok", endpoint: client.endpoint.description, version: engine?.version, apiVersion: engine?.apiVersion),
            collectedAt: Int64(Date().timeIntervalSince1970 * 1000),
            durationMilliseconds: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            containers: reports
        )
        snapshot.sequence = sequence
        return snapshot
    }

    /// Inspects containers seen for the first time or whose state changed; the rest stay cached.
    private func refreshDetails(_ summaries: [ContainerSummary]) async {
        let stale = summaries.filter { details[$0.id]?.state != $0.status }
        let fresh = await bounded(stale.map(\.id)) { [client] id in try? await client.details(id) }
        for summary in stale {
            if let found = fresh[summary.id] { details[summary.id] = (summary.status, found) }
        }
        let alive = Set(summaries.map(\.id))
        details = details.filter { alive.contains($0.key) }
    }

    private func reports(for summaries: [ContainerSummary], usages: [String: ContainerUsage]) -> [ContainerReport] {
        summaries.map { ContainerReport($0, details: details[$0.id]?.details, usage: usages[$0.id]) }
    }

    /// One sample per container, from its cgroup files when they can be read and from the engine
    /// otherwise; a container that vanished or timed out is left out.
    private func sample(_ containers: [(id: String, pid: Int)]) async -> [String: (ContainerStatsSample, ContainerStatsSource)] {
        var samples: [String: (ContainerStatsSample, ContainerStatsSource)] = [:]
        var viaEngine: [String] = []
        for (id, pid) in containers {
            if let cgroups, pid > 0, let sample = try? cgroups.sample(pid: pid, containerID: id) {
                samples[id] = (sample, .cgroup)
            } else {
                viaEngine.append(id)
            }
        }
        let fromEngine = await bounded(viaEngine) { [client, sampleTimeout] id in try? await client.stats(id, timeout: sampleTimeout) }
        for (id, sample) in fromEngine { samples[id] = (sample, .engine) }
        return samples
    }

    /// Runs `work` for every id with at most `concurrency` in flight; keeps the non-nil results.
    private func bounded<T: Sendable>(_ ids: [String], _ work: @escaping @Sendable (String) async -> T?) async -> [String: T] {
        await withTaskGroup(of: (String, T?).self) { group in
            var results: [String: T] = [:]
            var pending = ids.makeIterator()
            for _ in 0..<concurrency {
                guard let id = pending.next() else { break }
                group.addTask { (id, await work(id)) }
            }
            while let (id, result) = await group.next() {
                if let result { results[id] = result }
                if let next = pending.next() { group.addTask { (next, await work(next)) } }
            }
            return results
        }
    }

    /// Seconds on a monotonic clock, for rates.
    static func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let components = (instant - Self.origin).components
        return Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    private static let origin = ContinuousClock.now
}
