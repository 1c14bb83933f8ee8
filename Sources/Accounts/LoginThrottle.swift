import NIOConcurrencyHelpers

/// Slows down password guessing, per account and per client address: after `freeAttempts`
/// failures in a row, each further failure locks that key out for twice as long as the last
/// (`baseLockout`, doubling, capped at `maxLockout`). A success clears the account's record.
public final class LoginThrottle: Sendable {
    public struct Configuration: Sendable {
        public var freeAttempts: Int
        public var baseLockout: Int64
        public var maxLockout: Int64

        public init(freeAttempts: Int = 5, baseLockoutMilliseconds: Int64 = 30_000, maxLockoutMilliseconds: Int64 = 3_600_000) {
            self.freeAttempts = freeAttempts
            self.baseLockout = baseLockoutMilliseconds
            self.maxLockout = maxLockoutMilliseconds
        }
    }

    private struct Record {
        var failures = 0
        var lockedUntil: Int64 = 0
    }

    private let configuration: Configuration
    private let records = NIOLockedValueBox([String: Record]())

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Milliseconds until `key` may try again, or nil when it may try now.
    public func retryAfter(_ key: String, now: Int64) -> Int64? {
        records.withLockedValue { records in
            guard let record = records[key], record.lockedUntil > now else { return nil }
            return record.lockedUntil - now
        }
    }

    /// Records a failure; returns the lockout it caused (nil while attempts are still free).
    @discardableResult
    public func fail(_ key: String, now: Int64) -> Int64? {
        records.withLockedValue { records in
            var record = records[key] ?? Record()
            record.failures += 1
            var lockout: Int64?
            if record.failures >= configuration.freeAttempts {
                let doublings = min(record.failures - configuration.freeAttempts, 20)
                let duration = min(configuration.baseLockout << Int64(doublings), configuration.maxLockout)
                record.lockedUntil = now + duration
                lockout = duration
            }
            records[key] = record
            return lockout
        }
    }

    public func succeed(_ key: String) {
        records.withLockedValue { _ = $0.removeValue(forKey: key) }
    }
}
