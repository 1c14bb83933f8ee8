/// A source of periodic telemetry snapshots, sampled by a single owning task.
///
/// `sample()` is `mutating` because collectors keep the previous cumulative
/// counters to turn them into rates; that state belongs to one task, so no
/// locking is needed.
public protocol TelemetryCollector {
    /// The value produced by one sample, ready to be encoded for clients.
    associatedtype Snapshot: Encodable & Sendable

    /// Takes one reading and returns the snapshot derived from it.
    mutating func sample() throws -> Snapshot
}
