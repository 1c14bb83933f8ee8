import Foundation
@testable import Telemetry

/// A monotonic clock the test moves by hand, so rate math is deterministic.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ContinuousClock.now

    /// The current instant; pass `{ clock.now }` as a collector's `now`.
    var now: ContinuousClock.Instant {
        lock.withLock { current }
    }

    /// Moves time forward.
    func advance(by duration: Duration) {
        lock.withLock { current = current.advanced(by: duration) }
    }
}

/// A throwaway directory tree standing in for /proc and /sys.
struct TemporaryTree {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("telemetry-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `relativePath`, creating intermediate directories.
    func write(_ contents: String, to relativePath: String) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Creates an empty directory at `relativePath`.
    func makeDirectory(_ relativePath: String) throws {
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent(relativePath), withIntermediateDirectories: true)
    }

    func remove(_ relativePath: String) throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent(relativePath))
    }

    func path(_ relativePath: String = "") -> String {
        relativePath.isEmpty ? root.path : root.appendingPathComponent(relativePath).path
    }

    func delete() {
        try? FileManager.default.removeItem(at: root)
    }
}
