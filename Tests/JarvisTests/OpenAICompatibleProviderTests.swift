import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import Jarvis

/// The HTTP provider against a real loopback server speaking OpenAI's streaming format.
@Suite("OpenAI-compatible provider over HTTP")
struct OpenAICompatibleProviderTests {
    private static func chunk(_ content: String) -> String {
        #"data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"\#(content)"},"finish_reason":null}]}"# + "\n\n"
    }

    private static let roleChunk = #"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"# + "\r\n\r\n"
    private static let stopChunk = #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"
    private static let usageChunk = #"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"# + "\n\n"

    private let request = ChatRequest(messages: [ChatMessage(role: .user, content: "Which disk is filling up?")])

    private func withProvider(
        _ script: @escaping @Sendable (Int) -> [ScriptedHTTPServer.Step],
        firstToken: Duration = .seconds(5), idle: Duration = .seconds(5), connect: Duration = .seconds(2), apiKey: String? = nil,
        _ body: (OpenAICompatibleProvider, ScriptedHTTPServer) async throws -> Void
    ) async throws {
        let server = ScriptedHTTPServer(script: script)
        let baseURL = try await server.start()
        let client = OpenAICompatibleProvider.makeHTTPClient()
        let provider = OpenAICompatibleProvider(
            configuration: ProviderConfiguration(
                name: "scripted", baseURL: baseURL + "/", model: "smollm2", apiKey: apiKey,
                connectTimeout: connect, firstTokenTimeout: firstToken, idleTimeout: idle),
            client: client, logger: Logger(label: "test"))
        do {
            try await body(provider, server)
        } catch {
            try await client.shutdown()
            try await server.shutdown()
            throw error
        }
        try await client.shutdown()
        try await server.shutdown()
    }

    private func collect(_ stream: AsyncThrowingStream<ChatCompletionChunk, any Error>) async -> ([ChatCompletionChunk], (any Error)?) {
        var chunks: [ChatCompletionChunk] = []
        do {
            for try await chunk in stream { chunks.append(chunk) }
            return (chunks, nil)
        } catch {
            return (chunks, error)
        }
    }

    @Test func streamsAnAnswerSplitAcrossArbitraryWrites() async throws {
        let body = Self.roleChunk + ": keep-alive\n\n" + Self.chunk("Disk ") + Self.chunk("/dev/sda1") + Self.stopChunk + Self.usageChunk + "data: [DONE]\n\n"
        let bytes = Array(body.utf8)
        // Writes of 1, 7, 13, … bytes with pauses: cuts land inside lines, JSON and CRLF pairs.
        var pieces: [ScriptedHTTPServer.Step] = [.head(status: 200)]
        var at = 0
        var size = 1
        while at < bytes.count {
            let end = min(bytes.count, at + size)
            pieces.append(.send(String(decoding: bytes[at..<end], as: UTF8.self)))
            pieces.append(.wait(milliseconds: 2))
            at = end
            size = size % 23 + 6
        }
        pieces.append(.close)
        let script = pieces
        try await withProvider({ _ in script }, apiKey: "sk-test") { provider, server in
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(error == nil)
            #expect(chunks.compactMap(\.content).joined() == "Disk /dev/sda1")
            #expect(chunks.compactMap(\.finishReason) == ["stop"])
            #expect(chunks.compactMap(\.usage) == [.init(promptTokens: 9, completionTokens: 3)])
            let sent = try #require(server.requests.first)
            #expect(sent.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
            #expect(sent.contains("Authorization: Bearer sk-test\r\n") || sent.contains("authorization: Bearer sk-test\r\n"))
            #expect(sent.contains(#""model":"smollm2""#) && sent.contains(#""stream":true"#))
        }
    }

    @Test func aFinishReasonWithoutDoneIsACompleteAnswer() async throws {
        try await withProvider({ _ in [.head(status: 200), .send(Self.chunk("ok") + Self.stopChunk), .close] }) { provider, _ in
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(error == nil)
            #expect(chunks.compactMap(\.content) == ["ok"])
        }
    }

    @Test func aStreamThatStopsWithoutFinishingIsAnError() async throws {
        try await withProvider({ _ in [.head(status: 200), .send(Self.chunk("half")), .close] }) { provider, _ in
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(chunks.compactMap(\.content) == ["half"])
            #expect(error as? ProviderError == .endedEarly)
        }
    }

    @Test func aNon200AnswerCarriesStatusAndBody() async throws {
        let errorBody = #"{"error":{"message":"model not found"}}"#
        try await withProvider({ _ in [.head(status: 404, contentType: "application/json"), .send(errorBody), .close] }) { provider, _ in
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(chunks.isEmpty)
            #expect(error as? ProviderError == .httpStatus(404, errorBody))
        }
    }

    @Test func garbageInTheStreamIsMalformed() async throws {
        try await withProvider({ _ in [.head(status: 200), .send("data: {not json\n\n"), .close] }) { provider, _ in
            let (_, error) = await collect(provider.streamChat(request))
            guard case .malformedStream? = error as? ProviderError else {
                Issue.record("expected malformedStream, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func nothingListeningIsUnreachable() async throws {
        let client = OpenAICompatibleProvider.makeHTTPClient()
        let provider = OpenAICompatibleProvider(
            configuration: ProviderConfiguration(name: "down", baseURL: "http://127.0.0.1:9/v1", model: "m", connectTimeout: .seconds(30)),
            client: client, logger: Logger(label: "test"))
        let started = ContinuousClock.now
        let (_, error) = await collect(provider.streamChat(request))
        try await client.shutdown()
        // Far below the 30-s connect timeout (room left for a loaded machine): a refusal is not retried.
        #expect(ContinuousClock.now - started < .seconds(10), "a refused connection must not wait for the connect timeout")
        guard case .unreachable? = error as? ProviderError else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
    }

    @Test func noFirstTokenInTimeGivesUpAndHangsUp() async throws {
        try await withProvider(
            { _ in [.head(status: 200), .send(Self.roleChunk), .wait(milliseconds: 40_000), .send(Self.chunk("late"))] },
            firstToken: .milliseconds(400), connect: .seconds(30)
        ) { provider, server in
            let started = ContinuousClock.now
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(error as? ProviderError == .timeout(.firstToken))
            #expect(chunks.allSatisfy { !$0.hasAnswerContent })
            // The 400-ms first-token deadline, not the 30-s connect one (room left for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(10))
            for _ in 0..<100 where server.hangUps.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.hangUps.count == 1)
        }
    }

    @Test func silenceMidAnswerIsAnIdleTimeout() async throws {
        try await withProvider({ _ in [.head(status: 200), .send(Self.chunk("first")), .wait(milliseconds: 10_000)] }, idle: .milliseconds(400)) { provider, _ in
            let (chunks, error) = await collect(provider.streamChat(request))
            #expect(chunks.compactMap(\.content) == ["first"])
            #expect(error as? ProviderError == .timeout(.idle))
        }
    }

    @Test func cancellingTheConsumerClosesTheUpstreamConnectionWithinASecond() async throws {
        try await withProvider({ _ in [.head(status: 200), .send(Self.chunk("a")), .wait(milliseconds: 20_000), .send(Self.chunk("never"))] }) { provider, server in
            let firstChunk = NIOLockedValueBox(false)
            let consumer = Task {
                for try await _ in provider.streamChat(request) { firstChunk.withLockedValue { $0 = true } }
            }
            for _ in 0..<300 where !firstChunk.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(firstChunk.withLockedValue { $0 })
            let cancelledAt = ContinuousClock.now
            consumer.cancel()
            for _ in 0..<200 where server.hangUps.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            let hangUp = try #require(server.hangUps.first)
            #expect(hangUp - cancelledAt < .seconds(1))
        }
    }
}
