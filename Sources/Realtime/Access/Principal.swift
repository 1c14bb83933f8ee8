/// Who is on the other end of a connection or request, and what they may do. Produced by the
/// app's authenticator (an API key today, accounts later) and checked by the hub on every command,
/// not only at connect time.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: Sendable, Hashable {
        /// Subscribe and read history on readable channels.
        case read
        /// Publish to client-publishable families (`publish:<family>` keys later narrow this).
        case publish
        /// Everything, including what later issues add.
        case admin
    }

    public let id: String
    public let scopes: Set<Scope>

    public init(id: String, scopes: Set<Scope>) {
        self.id = id
        self.scopes = scopes
    }

    public func has(_ scope: Scope) -> Bool {
        scopes.contains(.admin) || scopes.contains(scope)
    }

    /// The server's own producers (telemetry collectors and the like).
    public static let server = Principal(id: "server", scopes: [.admin])

    public var description: String { id }
}
