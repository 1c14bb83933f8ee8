/// Who is on the other end of a connection or request, and what they may do. Produced by the
/// app's authenticator (an API key today, accounts later) and checked by the hub on every command,
/// not only at connect time.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: Sendable, Hashable {
        /// Subscribe and read history on readable channels.
        case read
        /// Publish to every client-publishable family.
        case publish
        /// Publish to the client-publishable channels whose first name segment is this (`publish:app`).
        case publishFamily(String)
        /// Act on containers: start, stop, restart (operators).
        case containers
        /// Start and manage jobs: imports, backups (operators).
        case jobs
        /// Everything, including what later issues add.
        case admin
    }

    public let id: String
    public let scopes: Set<Scope>
    /// When set, only channels starting with one of these prefixes are visible (overlay keys: `overlay.`).
    public let channelPrefixes: [String]?
    /// How people recognise this principal in the audit log (a username); `id` when nil.
    public let name: String?
    /// Opaque handle of the credential behind this principal when it can be withdrawn while
    /// connected (a browser session), so the server can find and close its connections.
    public let credential: String?

    public init(id: String, scopes: Set<Scope>, channelPrefixes: [String]? = nil, name: String? = nil, credential: String? = nil) {
        self.id = id
        self.scopes = scopes
        self.channelPrefixes = channelPrefixes
        self.name = name
        self.credential = credential
    }

    /// The actor written to the audit log.
    public var displayName: String { name ?? id }

    /// Whether the channel is within this principal's reach at all.
    public func canSee(_ channel: String) -> Bool {
        channelPrefixes.map { prefixes in prefixes.contains { channel.hasPrefix($0) } } ?? true
    }

    /// Whether the principal may publish to a client-publishable channel.
    public func canPublish(to channel: String) -> Bool {
        guard canSee(channel) else { return false }
        if has(.publish) { return true }
        let family = channel.split(separator: ".", maxSplits: 1).first.map(String.init) ?? channel
        return scopes.contains(.publishFamily(family))
    }

    public func has(_ scope: Scope) -> Bool {
        scopes.contains(.admin) || scopes.contains(scope)
    }

    /// The server's own producers (telemetry collectors and the like).
    public static let server = Principal(id: "server", scopes: [.admin])

    public var description: String { id }
}
