import Realtime

enum JarvisChannels {
    /// `jarvis.<conversation-id>`: one answer's events after another, in order. Only the owner (and
    /// admins) may read; only the server writes. The history holds a long answer's batches, so a
    /// page reloaded mid-answer replays it whole with `since`.
    static let family = ChannelFamily(
        .prefix(JarvisConversationOwners.channelPrefix),
        ChannelPolicy(delivery: .ordered, historySize: 4000, historyTTL: .seconds(3600), subscribe: .owner, publish: .server)
    )
}
