/// A failure to read or interpret a telemetry source, naming the file involved.
public enum TelemetryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or read (missing, permission denied, ...).
    case unreadable(file: String, reason: String)
    /// The file was read but a line did not have the expected shape (`line` is 1-based).
    case malformed(file: String, line: Int, reason: String)
    /// A field that must be present was not found anywhere in the file.
    case missingField(file: String, field: String)

    /// The file the error refers to.
    public var file: String {
        switch self {
        case .unreadable(let file, _), .malformed(let file, _, _), .missingField(let file, _):
            return file
        }
    }

    /// A one-line message naming the file and what went wrong.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read \(file): \(reason)"
        case .malformed(let file, let line, let reason):
            return "malformed \(file) at line \(line): \(reason)"
        case .missingField(let file, let field):
            return "\(file) has no \(field) field"
        }
    }
}
