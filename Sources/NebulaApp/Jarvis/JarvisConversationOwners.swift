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

    /// Conversations the server keeps for the people who decide tool calls — maintenance suggestions
    /// (owned by `server`) and outside agents' calls (`mcp-…`): readable by operators and admins.
    static func isShared(id: String, owner: String) -> Bool {
        owner == MaintenanceAdvisor.owner || id.hasPrefix("mcp-")
    }

    /// Whether a principal may see a conversation: its owner, admins, and for shared ones operators.
    static func mayRead(_ conversation: ConversationRecord, principal: Principal) -> Bool {
        conversation.owner == principal.id || principal.has(.admin) || (isShared(id: conversation.id, owner: conversation.owner) && principal.has(.containers))
    }

    func grants(_ channel: String, to principal: Principal) async -> Bool {
        guard let owner = await owner(of: channel) else { return false }
        let id = String(channel.dropFirst(Self.channelPrefix.count))
        return owner == principal.id || (Self.isShared(id: id, owner: owner) && principal.has(.containers))
    }

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
