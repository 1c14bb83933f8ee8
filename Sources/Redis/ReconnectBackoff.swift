/// Delays between reconnection attempts: doubling from `initial` up to `maximum`, each with
/// jitter so that replicas losing Redis together do not return in lockstep.
public struct ReconnectBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var attempt = 0

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next attempt: between half and all of the current step.
    public mutating func next() -> Duration {
        let step = min(maximum, initial * (1 << min(attempt, 20)))
        attempt += 1
        return step / 2 + step / 2 * Double.random(in: 0...1)
    }

    public mutating func reset() { attempt = 0 }
}
