import Store
import Testing

@Suite("Jarvis conversations")
struct ConversationRepositoryTests {
    @Test("conversations: create, list per owner, rename, messages in order, answer completed, delete cascades", arguments: Backend.allCases)
    func conversations(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let conversations = ConversationRepository(database)
        let mine = ConversationRecord(id: "c-1", owner: "user:1", title: RepositoryTests.hostile, createdAt: 10, updatedAt: 10)
        let theirs = ConversationRecord(id: "c-2", owner: "user:2", title: "disks", createdAt: 11, updatedAt: 11)
        try await conversations.create(mine)
        try await conversations.create(theirs)
        await #expect(throws: StoreError.self) { try await conversations.create(mine) }
        #expect(try await conversations.find(id: "c-1") == mine)
        #expect(try await conversations.list(owner: "user:1", limit: 50) == [mine])
        #expect(try await conversations.list(owner: nil, limit: 50).map(\.id) == ["c-2", "c-1"])

        #expect(try await conversations.rename(id: "c-1", title: "why does db restart?", at: 20))
        #expect(try await !conversations.rename(id: "nope", title: "x", at: 20))
        #expect(try await conversations.list(owner: nil, limit: 50).map(\.id) == ["c-1", "c-2"])

        let question = try await conversations.append(
            ConversationMessageRecord(conversationID: "c-1", role: "user", content: "Why?", state: "complete", createdAt: 21))
        var answer = try await conversations.append(
            ConversationMessageRecord(conversationID: "c-1", role: "assistant", content: "", state: "streaming", createdAt: 22))
        #expect(answer.id > question.id)
        try await conversations.setStreamPosition(messageID: answer.id, epoch: "ep-1", offset: 41)
        answer.streamEpoch = "ep-1"
        answer.streamOffset = 41
        answer.content = "Because it runs out of memory."
        answer.state = "complete"
        answer.provider = "gpu-ollama"
        answer.model = "smollm2"
        answer.finishReason = "stop"
        answer.promptTokens = 12
        answer.completionTokens = 7
        answer.firstTokenMilliseconds = 140
        answer.totalMilliseconds = 900
        answer.toolCalls = #"[{"id":"call_1","name":"container_logs","arguments":"{}"}]"#
        try await conversations.complete(answer)
        #expect(try await conversations.messages(conversationID: "c-1") == [question, answer])
        await #expect(throws: StoreError.self) {
            try await conversations.append(ConversationMessageRecord(conversationID: "c-1", role: "wizard", content: "", state: "complete", createdAt: 1))
        }

        // A question and its answer in one write; ids in that order, after the earlier ones.
        let (q2, a2) = try await conversations.appendExchange(
            question: ConversationMessageRecord(conversationID: "c-1", role: "user", content: "And now?", state: "complete", createdAt: 30),
            answer: ConversationMessageRecord(conversationID: "c-1", role: "assistant", content: "", state: "streaming", createdAt: 30))
        #expect(q2.id > answer.id && a2.id > q2.id)
        #expect(try await conversations.messages(conversationID: "c-1").suffix(2) == [q2, a2])

        #expect(try await conversations.delete(id: "c-1"))
        #expect(try await !conversations.delete(id: "c-1"))
        #expect(try await conversations.messages(conversationID: "c-1").isEmpty)
        #expect(try await conversations.list(owner: nil, limit: 50) == [theirs])
    }
}

@Suite("Jarvis providers")
struct JarvisProviderRepositoryTests {
    @Test("the chain is replaced whole and read back in priority order", arguments: Backend.allCases)
    func providers(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let providers = JarvisProviderRepository(database)
        #expect(try await providers.all().isEmpty)
        let gpu = JarvisProviderRecord(
            name: "gpu", baseURL: "http://gpu:11434/v1", model: "llama3", sealedKey: nil, connectTimeoutMilliseconds: 2000,
            firstTokenTimeoutMilliseconds: 30000, idleTimeoutMilliseconds: 10000)
        let cloud = JarvisProviderRecord(
            name: "openai", baseURL: "https://api.openai.com/v1", model: "gpt-4o-mini", sealedKey: [1, 2, 3],
            connectTimeoutMilliseconds: 5000, firstTokenTimeoutMilliseconds: 60000, idleTimeoutMilliseconds: 30000, maxTokens: 512)
        try await providers.replaceAll([gpu, cloud])
        #expect(try await providers.all() == [gpu, cloud])
        try await providers.replaceAll([cloud, gpu])
        #expect(try await providers.all() == [cloud, gpu])
        // A duplicate name fails the whole replacement: the previous chain stays.
        await #expect(throws: (any Error).self) { try await providers.replaceAll([gpu, gpu]) }
        #expect(try await providers.all() == [cloud, gpu])
    }

    @Test("an admin's list also holds the conversations the server keeps for admins", arguments: Backend.allCases)
    func sharedConversations(backend: Backend) async throws {
        let database = try await backend.open()
        defer { Task { await database.close() } }
        try await Migrator().migrate(database)
        let conversations = ConversationRepository(database)
        for (id, owner, at) in [("c-1", "user:1", 10), ("maintenance", "server", 11), ("mcp-key-7", "key:7", 12), ("c-2", "user:2", 13), ("mcpx", "user:2", 14)] {
            try await conversations.create(ConversationRecord(id: id, owner: owner, title: id, createdAt: Int64(at), updatedAt: Int64(at)))
        }
        #expect(try await conversations.list(owner: "user:1", limit: 50).map(\.id) == ["c-1"])
        #expect(try await conversations.list(owner: "user:1", limit: 50, shared: ("server", "mcp-")).map(\.id) == ["mcp-key-7", "maintenance", "c-1"])
    }
}
