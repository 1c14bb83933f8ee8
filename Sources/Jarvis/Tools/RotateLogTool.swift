import Foundation
import Realtime

/// `rotate_log`: rotates a large log file in one of the log directories an admin named (`--log-dir`)
/// the way logrotate's `copytruncate` does — the writer keeps its open file — keeping 3 old copies
/// (`app.log.1` newest). The copy is made first under a temporary name: when the disk is too full
/// for it, nothing is rotated, truncated or lost.
public struct RotateLogTool: JarvisTool {
    public let directories: [NamedDirectory]
    public static let keep = 3

    public init(directories: [NamedDirectory]) {
        self.directories = directories
    }

    public let name = "rotate_log"
    public let description = """
        Rotate a large log file in one of the configured log directories: copy it to <file>.1 (older copies \
        move to .2 and .3, the oldest is dropped), then empty the original so the writing program keeps going.
        """
    public let tier = ToolTier.remediate
    public var parameters: JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object([
                ("directory", .object([
                    ("type", .string("string")), ("description", .string("the log directory's configured name")),
                    ("enum", .array(directories.map { .string($0.name) })),
                ])),
                ("file", .object([("type", .string("string")), ("description", .string("the log file's name inside it, e.g. app.log"))])),
                ("min_bytes", .object([
                    ("type", .string("integer")), ("minimum", .number("0")),
                    ("description", .string("only rotate when the file is at least this big (default 0)")),
                ])),
            ])),
            ("required", .array([.string("directory"), .string("file")])),
        ])
    }

    public func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let directory = try NamedDirectory.find(try arguments.toolString("directory"), in: directories)
        let file = try arguments.toolString("file")
        guard !file.contains("/"), file != ".", file != "..", !file.hasPrefix(".") else {
            throw ToolError(.badArguments, "'\(file)' must be a file name inside '\(directory.name)', without '/'")
        }
        let minimum = try arguments.toolInteger("min_bytes", in: 0...Int64.max, default: 0)
        let manager = FileManager.default
        let log = URL(fileURLWithPath: directory.path).appendingPathComponent(file)
        guard let attributes = try? manager.attributesOfItem(atPath: log.path), attributes[.type] as? FileAttributeType == .typeRegular else {
            throw ToolError(.failed, "there is no log file '\(file)' in '\(directory.name)'")
        }
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        guard size >= UInt64(minimum) else {
            return .object([("file", .string(file)), ("rotated", .bool(false)), ("bytes", .number(String(size))),
                            ("reason", .string("smaller than min_bytes (\(minimum))"))])
        }
        let copy = { (n: Int) in log.deletingLastPathComponent().appendingPathComponent("\(file).\(n)") }
        let partial = log.deletingLastPathComponent().appendingPathComponent(".\(file).rotating")
        do {
            try? manager.removeItem(at: partial)
            try Self.copyContents(of: log, to: partial)
        } catch {
            try? manager.removeItem(at: partial)
            throw ToolError(.failed, "the copy of '\(file)' could not be written, so nothing was rotated: \(error.localizedDescription)")
        }
        do {
            try? manager.removeItem(at: copy(Self.keep))
            for n in stride(from: Self.keep - 1, through: 1, by: -1) where manager.fileExists(atPath: copy(n).path) {
                try manager.moveItem(at: copy(n), to: copy(n + 1))
            }
            try manager.moveItem(at: partial, to: copy(1))
            let handle = try FileHandle(forWritingTo: log)
            try handle.truncate(atOffset: 0)
            try handle.close()
        } catch {
            throw ToolError(.failed, "rotating '\(file)' stopped half-way (the copy is kept): \(error.localizedDescription)")
        }
        return .object([
            ("file", .string(file)), ("rotated", .bool(true)), ("bytes", .number(String(size))),
            ("rotated_to", .string(copy(1).lastPathComponent)),
        ])
    }

    /// Writes every byte or throws (a full disk is an error here, not a short copy).
    static func copyContents(of source: URL, to destination: URL) throws {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
        }
        let input = try FileHandle(forReadingFrom: source)
        defer { try? input.close() }
        let output = try FileHandle(forWritingTo: destination)
        defer { try? output.close() }
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            try output.write(contentsOf: chunk)
        }
        try output.synchronize()
    }
}
