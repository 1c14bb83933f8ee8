import Foundation
import Realtime

/// `clear_cache`: empties one of the cache directories an admin named (`--cache-dir`): everything
/// inside goes, the directory itself stays. Symbolic links inside are removed, never followed.
public struct ClearCacheTool: JarvisTool {
    public let directories: [NamedDirectory]

    public init(directories: [NamedDirectory]) {
        self.directories = directories
    }

    public let name = "clear_cache"
    public let description = "Delete everything inside one of the configured cache directories (the directory itself stays) to free disk space."
    public let tier = ToolTier.remediate
    public var parameters: JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object([
                ("cache", .object([
                    ("type", .string("string")), ("description", .string("the cache's configured name")),
                    ("enum", .array(directories.map { .string($0.name) })),
                ])),
            ])),
            ("required", .array([.string("cache")])),
        ])
    }

    public func run(_ arguments: JSONValue) async throws(ToolError) -> JSONValue {
        let directory = try NamedDirectory.find(try arguments.toolString("cache"), in: directories)
        let manager = FileManager.default
        let root = URL(fileURLWithPath: directory.path, isDirectory: true)
        let children: [String]
        do {
            children = try manager.contentsOfDirectory(atPath: root.path)
        } catch {
            throw ToolError(.failed, "cannot read '\(directory.name)' (\(directory.path)): \(error.localizedDescription)")
        }
        var removed: (bytes: UInt64, files: Int) = (0, 0)
        var failures: [String] = []
        for child in children {
            let url = root.appendingPathComponent(child)
            let size = NamedDirectory.size(of: url)
            do {
                try manager.removeItem(at: url)
                removed.bytes += size.bytes
                removed.files += size.files
            } catch {
                failures.append("\(child): \(error.localizedDescription)")
            }
        }
        if !failures.isEmpty, removed.files == 0, !children.isEmpty {
            throw ToolError(.failed, "nothing in '\(directory.name)' could be removed: \(failures.prefix(3).joined(separator: "; "))")
        }
        return .object([
            ("cache", .string(directory.name)), ("path", .string(directory.path)),
            ("removed_files", .number(String(removed.files))), ("freed_bytes", .number(String(removed.bytes))),
            ("not_removed", .array(failures.prefix(10).map(JSONValue.string))),
        ])
    }
}
