import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback HTTP/1.1 server that answers each request by playing a script of raw writes and
/// pauses — the documented OpenAI streaming wire format split wherever a test wants — and records
/// the request bodies and when each client hung up.
final class ScriptedHTTPServer: Sendable {
    enum Step: Sendable {
        case head(status: Int, contentType: String = "text/event-stream")
        case send(String)
        case wait(milliseconds: Int64)
        /// Hang up without finishing the response.
        case close
    }

    private let script: @Sendable (_ requestIndex: Int) -> [Step]
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// Whole requests (head and body) as received.
    private let state = NIOLockedValueBox((requests: [String](), hangUps: [ContinuousClock.Instant]()))
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)

    init(script: @escaping @Sendable (_ requestIndex: Int) -> [Step]) {
        self.script = script
    }

    var requests: [String] { state.withLockedValue { $0.requests } }
    var hangUps: [ContinuousClock.Instant] { state.withLockedValue { $0.hangUps } }

    /// Starts listening; returns the base URL (`http://127.0.0.1:P/v1`).
    func start() async throws -> String {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(Connection(server: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLockedValue { $0 = server }
        return "http://127.0.0.1:\(server.localAddress!.port!)/v1"
    }

    func shutdown() async throws {
        try await channel.withLockedValue { $0 }?.close()
        try await group.shutdownGracefully()
    }

    fileprivate func received(_ request: String) -> [Step] {
        let index = state.withLockedValue { state in
            state.requests.append(request)
            return state.requests.count - 1
        }
        return script(index)
    }

    fileprivate func clientHungUp() {
        state.withLockedValue { $0.hangUps.append(.now) }
    }

    private final class Connection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer

        let server: ScriptedHTTPServer
        var buffer = ByteBuffer()
        var answered = false
        var weClosed = false

        init(server: ScriptedHTTPServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            buffer.writeBuffer(&chunk)
            guard !answered, let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
                let headEnd = text.range(of: "\r\n\r\n")
            else { return }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            let body = String(text[headEnd.upperBound...])
            guard body.utf8.count >= length else { return }
            answered = true
            play(server.received(text)[...], context: context)
        }

        func play(_ steps: ArraySlice<Step>, context: ChannelHandlerContext) {
            guard let step = steps.first, context.channel.isActive else { return }
            let rest = steps.dropFirst()
            switch step {
            case .head(let status, let contentType):
                write("HTTP/1.1 \(status) Scripted\r\nContent-Type: \(contentType)\r\nConnection: close\r\n\r\n", context: context)
                play(rest, context: context)
            case .send(let text):
                write(text, context: context)
                play(rest, context: context)
            case .wait(let milliseconds):
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                    bound.value.0.play(rest, context: bound.value.1)
                }
            case .close:
                weClosed = true
                context.close(promise: nil)
            }
        }

        func write(_ text: String, context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !weClosed { server.clientHungUp() }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
