import NIOConcurrencyHelpers
import Realtime
import Store

/// Who owns `jarvis.<conversation-id>`: read from the store once, then remembered (a
/// conversation never changes owner). Unknown conversations are asked again next time, since
/// another replica may have just created them.
struct JarvisConversationOwners: ChannelOwnership {
    static let channelPrefix = "jarvis."
    private static let rememberedLimit = 10_000

    let conversations: ConversationRepository
    private let remembered = NIOLockedValueBox([String: String]())

    init(conversations: ConversationRepository) {
        self.conversations = conversations
    }

    static func channel(of conversationID: String) -> String { channelPrefix + conversationID }

    func owner(of channel: String) async -> String? {
        guard channel.hasPrefix(Self.channelPrefix) else { return nil }
        if let known = remembered.withLockedValue({ $0[channel] }) { return known }
        let id = String(channel.dropFirst(Self.channelPrefix.count))
        guard let conversation = try? await conversations.find(id: id) else { return nil }
        remembered.withLockedValue { remembered in
            if remembered.count >= Self.rememberedLimit { remembered.removeAll(keepingCapacity: true) }
            remembered[channel] = conversation.owner
        }
        return conversation.owner
    }
}
