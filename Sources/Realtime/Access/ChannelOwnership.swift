/// Says who owns a channel of a family whose subscribe rule is `.owner` (a Jarvis conversation
/// belongs to whoever started it). Asked on subscribe and history; nil means nobody (or unknown),
/// and then only admins may read.
public protocol ChannelOwnership: Sendable {
    func owner(of channel: String) async -> String?
}
