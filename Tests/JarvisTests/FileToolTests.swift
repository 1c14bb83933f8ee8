import Foundation
import Realtime
import Testing
@testable import Jarvis

#if canImport(Glibc)
import Glibc
#endif

/// The remediate tools that touch files, against real files in a scratch directory (and a real
/// full filesystem: a 64 KiB tmpfs, when the tests run as root).
@Suite("File tools against real files")
struct FileToolTests {
    private static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nebula-tools-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private static func write(_ bytes: Int, to url: URL) throws {
        try Data(repeating: 0x61, count: bytes).write(to: url)
    }

    @Test func clearCacheEmptiesOnlyTheNamedDirectoryAndNeverFollowsLinks() async throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = root.appendingPathComponent("cache"), precious = root.appendingPathComponent("precious")
        try FileManager.default.createDirectory(at: cache.appendingPathComponent("transcode/sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: precious, withIntermediateDirectories: true)
        try Self.write(1000, to: cache.appendingPathComponent("a.tmp"))
        try Self.write(500, to: cache.appendingPathComponent("transcode/sub/b.tmp"))
        try Self.write(42, to: precious.appendingPathComponent("keep.me"))
        try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("link"), withDestinationURL: precious)

        let tool = ClearCacheTool(directories: [NamedDirectory(name: "plex", path: cache.path)])
        #expect(tool.parameters["properties"]?["cache"]?["enum"] == .array([.string("plex")]))
        let result = try await tool.run(.object([("cache", .string("plex"))]))
        #expect(result["freed_bytes"]?.int64Value ?? 0 >= 1500)
        #expect(result["removed_files"]?.int64Value == 3)  // two files and the link itself
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).isEmpty)
        #expect(FileManager.default.fileExists(atPath: precious.appendingPathComponent("keep.me").path), "followed a link out of the cache")

        await #expect(throws: ToolError(.badArguments, "no directory 'media'; there are: plex")) {
            try await tool.run(.object([("cache", .string("media"))]))
        }
        let missing = ClearCacheTool(directories: [NamedDirectory(name: "gone", path: root.appendingPathComponent("nope").path)])
        await #expect(throws: ToolError.self) { try await missing.run(.object([("cache", .string("gone"))])) }
    }

    @Test func rotateLogKeepsThreeCopiesAndTheWriterSeesAnEmptyFile() async throws {
        let logs = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: logs) }
        let log = logs.appendingPathComponent("app.log")
        let tool = RotateLogTool(directories: [NamedDirectory(name: "app", path: logs.path)])
        // A writer with the file open in append mode, like a daemon.
        let writer = try FileHandle(forWritingTo: { try Self.write(0, to: log); return log }())
        defer { try? writer.close() }
        for round in 1...4 {
            try writer.seekToEnd()
            try writer.write(contentsOf: Data("round \(round)\n".utf8))
            let result = try await tool.run(.object([("directory", .string("app")), ("file", .string("app.log"))]))
            #expect(result["rotated"] == .bool(true) && result["rotated_to"]?.stringValue == "app.log.1")
            #expect(try Data(contentsOf: log).isEmpty)
        }
        #expect(try String(contentsOf: logs.appendingPathComponent("app.log.1"), encoding: .utf8) == "round 4\n")
        #expect(try String(contentsOf: logs.appendingPathComponent("app.log.3"), encoding: .utf8) == "round 2\n")
        #expect(!FileManager.default.fileExists(atPath: logs.appendingPathComponent("app.log.4").path))
        // The writer keeps writing into the same (now empty) file.
        try writer.seekToEnd()
        try writer.write(contentsOf: Data("after\n".utf8))
        #expect(try String(contentsOf: log, encoding: .utf8) == "after\n")

        let small = try await tool.run(.object([("directory", .string("app")), ("file", .string("app.log")), ("min_bytes", .number("1000000"))]))
        #expect(small["rotated"] == .bool(false))
        for bad in ["../etc/passwd", "sub/app.log", ".hidden"] {
            await #expect(throws: ToolError.self) { try await tool.run(.object([("directory", .string("app")), ("file", .string(bad))])) }
        }
        await #expect(throws: ToolError.self) { try await tool.run(.object([("directory", .string("app")), ("file", .string("missing.log"))])) }
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func rotatingOnAFullDiskChangesNothing() async throws {
        let mount = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: mount) }
        try Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.path)
        defer { try? Self.run("/bin/umount", mount.path) }
        let log = mount.appendingPathComponent("big.log")
        try Self.write(40 * 1024, to: log)  // the copy cannot fit beside it
        let before = try Data(contentsOf: log)
        let tool = RotateLogTool(directories: [NamedDirectory(name: "full", path: mount.path)])
        await #expect(throws: ToolError.self) {
            try await tool.run(.object([("directory", .string("full")), ("file", .string("big.log"))]))
        }
        #expect(try Data(contentsOf: log) == before, "the log was changed although it could not be copied")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount.path) == ["big.log"], "a partial copy was left behind")
    }

    private static func run(_ executable: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ToolError(.failed, "\(executable) \(arguments) exited \(process.terminationStatus)") }
    }
}
