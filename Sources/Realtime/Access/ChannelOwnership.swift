/// Says who owns a channel of a family whose subscribe rule is `.owner` (a Jarvis conversation
/// belongs to whoever started it). Asked on subscribe and history; nil means nobody (or unknown),
/// and then only admins may read.
public protocol ChannelOwnership: Sendable {
    func owner(of channel: String) async -> String?
    /// Whether a principal who is not an admin may read the channel; by default only its owner may.
    func grants(_ channel: String, to principal: Principal) async -> Bool
}

extension ChannelOwnership {
    public func grants(_ channel: String, to principal: Principal) async -> Bool {
        await owner(of: channel) == principal.id
    }
}
