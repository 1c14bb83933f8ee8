import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// `POST {baseURL}/chat/completions` with `"stream": true`, read as server-sent events.
public struct OpenAICompatibleProvider: ChatProvider {
    public let configuration: ProviderConfiguration
    private let client: HTTPClient
    private let logger: Logger
    /// Bytes of a non-200 body kept for the error message.
    private static let errorBodyLimit = 4096

    public init(configuration: ProviderConfiguration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    /// The client providers should share: a refused connection fails at once (the chain moves on to
    /// the next provider) instead of being retried until the connect timeout, and streamed answers
    /// may take as long as they need (the provider's own timeouts apply).
    public static func makeHTTPClient(eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: nil)
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }

    public var name: String { configuration.name }
    public var model: String { configuration.model }

    public func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatCompletionChunk.self, throwing: (any Error).self)
        let task = Task {
            do {
                try await run(request, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.providerError(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ chat: ChatRequest, into continuation: AsyncThrowingStream<ChatCompletionChunk, any Error>.Continuation) async throws {
        var request = HTTPClientRequest(url: configuration.completionsURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let key = configuration.apiKey, !key.isEmpty {
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        var chat = chat
        if chat.maxTokens == nil { chat.maxTokens = configuration.maxTokens }
        request.body = .bytes(ByteBuffer(bytes: chat.body(model: configuration.model)))
        let prepared = request

        let watchdog = StreamWatchdog(phase: .connect, deadline: .now + configuration.connectTimeout)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let response: HTTPClientResponse
                do {
                    response = try await client.execute(prepared, timeout: .nanoseconds(Int64(configuration.connectTimeout.nanoseconds)))
                } catch let error as HTTPClientError where error == .deadlineExceeded {
                    throw ProviderError.timeout(.connect)
                }
                guard response.status == .ok else {
                    var body = try await response.body.collect(upTo: 1 << 20)
                    let text = body.readString(length: min(body.readableBytes, Self.errorBodyLimit)) ?? ""
                    throw ProviderError.httpStatus(Int(response.status.code), text)
                }
                watchdog.arm(.firstToken, deadline: .now + configuration.firstTokenTimeout)
                try await readEvents(response.body, watchdog: watchdog, into: continuation)
            }
            group.addTask { try await watchdog.run() }
            // Whichever ends first decides: the reader finishing (or failing) or the watchdog firing.
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func readEvents(
        _ body: HTTPClientResponse.Body, watchdog: StreamWatchdog,
        into continuation: AsyncThrowingStream<ChatCompletionChunk, any Error>.Continuation
    ) async throws {
        var decoder = ServerSentEventDecoder()
        var sawAnswer = false
        var complete = false
        func handle(_ events: [ServerSentEvent]) throws -> Bool {
            for event in events {
                if event.data.trimmingSpaces == "[DONE]" { return true }
                let chunk = try ChatCompletionChunk.parse(event.data)
                if chunk.hasAnswerContent, !sawAnswer {
                    sawAnswer = true
                }
                if sawAnswer { watchdog.arm(.idle, deadline: .now + configuration.idleTimeout) }
                if chunk.finishReason != nil { complete = true }
                continuation.yield(chunk)
            }
            return false
        }
        for try await buffer in body {
            if try handle(try decoder.feed(buffer.readableBytesView)) { return }
        }
        if try handle(try decoder.finish()) { return }
        // Some servers close after the finish reason without `[DONE]`; that answer is whole.
        guard complete else { throw ProviderError.endedEarly }
    }

    private static func providerError(_ error: any Error) -> any Error {
        switch error {
        case is ProviderError, is CancellationError:
            return error
        case let error as ServerSentEventError:
            return ProviderError.malformedStream(error.description)
        case let error as HTTPClientError where error == .cancelled:
            return CancellationError()
        default:
            return ProviderError.unreachable(String(describing: error))
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " } ?? endIndex
        let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
