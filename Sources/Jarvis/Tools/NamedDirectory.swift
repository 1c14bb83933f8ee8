import Foundation

/// A directory an admin named for a tool (`--cache-dir plex=/var/lib/plex/cache`): tools act only
/// inside directories named this way, and the model refers to them by name, never by path.
public struct NamedDirectory: Sendable, Equatable {
    public let name: String
    public let path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }

    /// The named directory among `directories`, or `bad_arguments` listing the names there are.
    static func find(_ name: String, in directories: [NamedDirectory]) throws(ToolError) -> NamedDirectory {
        guard let directory = directories.first(where: { $0.name == name }) else {
            let names = directories.map(\.name).joined(separator: ", ")
            throw ToolError(.badArguments, directories.isEmpty ? "no directories are configured for this tool" : "no directory '\(name)'; there are: \(names)")
        }
        return directory
    }

    /// Bytes a file or tree takes (without following symbolic links).
    static func size(of url: URL) -> (bytes: UInt64, files: Int) {
        let manager = FileManager.default
        guard let attributes = try? manager.attributesOfItem(atPath: url.path) else { return (0, 0) }
        if attributes[.type] as? FileAttributeType != .typeDirectory {
            return ((attributes[.size] as? NSNumber)?.uint64Value ?? 0, 1)
        }
        var total: (bytes: UInt64, files: Int) = (0, 0)
        for child in (try? manager.contentsOfDirectory(atPath: url.path)) ?? [] {
            let inner = size(of: url.appendingPathComponent(child))
            total.bytes += inner.bytes
            total.files += inner.files
        }
        return total
    }
}
