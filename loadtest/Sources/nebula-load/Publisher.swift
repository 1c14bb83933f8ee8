import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Counters of the publisher, touched on its own event loop only.
final class PublisherStats: @unchecked Sendable {
    var sent = 0
    var acked = 0
    var errors: [String: Int] = [:]
    var sendTimes: [UInt64] = []  // by seq
    var lastAckOffset: Int64 = -1
}

protocol PublishTransport: AnyObject {
    /// Sends one publication; must be called on the publisher's loop.
    func publish(channel: String, dataJSON: String, stats: PublisherStats)
    func close()
}

final class WSPublishTransport: PublishTransport {
    let conn: Conn
    init(conn: Conn) { self.conn = conn }

    func publish(channel: String, dataJSON: String, stats: PublisherStats) {
        conn.send(op: "publish", extra: ",\"channel\":\"\(channel)\",\"data\":\(dataJSON)") { r in
            if r.hasResult {
                stats.acked += 1
                stats.lastAckOffset = r.offset
            } else {
                stats.errors[r.errorCode ?? "unknown", default: 0] += 1
            }
        }
    }

    func close() { conn.closeNow() }
}

/// HTTP/1.1 keep-alive publisher: `POST /api/v1/publish` with `{"channel": C, "data": {...}}`.
final class HTTPPublishTransport: ChannelInboundHandler, PublishTransport, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let target: Target
    let path: String
    var context: ChannelHandlerContext?
    var stats: PublisherStats?
    var channel: Channel?

    init(target: Target, path: String) {
        self.target = target
        self.path = path
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func publish(channel: String, dataJSON: String, stats: PublisherStats) {
        self.stats = stats
        guard let context else {
            stats.errors["not_connected", default: 0] += 1
            return
        }
        let body = "{\"channel\":\"\(channel)\",\"data\":\(dataJSON)}"
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Authorization", value: "Bearer \(target.token)")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
        var buf = context.channel.allocator.buffer(capacity: body.utf8.count)
        buf.writeString(body)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buf))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let h) = unwrapInboundIn(data), let stats {
            if h.status == .ok { stats.acked += 1 } else { stats.errors["http_\(h.status.code)", default: 0] += 1 }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.context = nil
        context.fireChannelInactive()
    }

    func close() { channel?.close(promise: nil) }

    static func connect(target: Target, path: String, loop: EventLoop) -> EventLoopFuture<HTTPPublishTransport> {
        let t = HTTPPublishTransport(target: target, path: path)
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(t)
                }
            }
            .connect(host: target.host, port: target.port)
            .map { ch in
                t.channel = ch
                return t
            }
    }
}

/// Publishes `total` publications at `rate`/s, publication k due at `startNs + k/rate` (absolute deadlines, no
/// drift). Its data is `{"seq": k, "ts": <monotonic send time ns>, "pad": "xxx..."}`.
final class PacedPublisher: @unchecked Sendable {
    let loop: EventLoop
    let transport: PublishTransport
    let channel: String
    let total: Int
    let intervalNs: Double
    let startNs: UInt64
    let pad: String
    let stats = PublisherStats()
    let done: EventLoopPromise<Void>
    var k = 0

    init(loop: EventLoop, transport: PublishTransport, channel: String, total: Int, rate: Double, startNs: UInt64, pad: String) {
        self.loop = loop
        self.transport = transport
        self.channel = channel
        self.total = total
        self.intervalNs = 1e9 / rate
        self.startNs = startNs
        self.pad = pad
        self.done = loop.makePromise()
        stats.sendTimes = [UInt64](repeating: 0, count: total)
    }

    func start() { loop.execute { self.scheduleNext() } }

    private func scheduleNext() {
        if k >= total {
            done.succeed(())
            return
        }
        let due = startNs + UInt64(Double(k) * intervalNs)
        loop.scheduleTask(deadline: .uptimeNanoseconds(due)) { self.fire() }
    }

    private func fire() {
        let ts = monoNanos()
        let data = "{\"seq\":\(k),\"ts\":\(ts),\"pad\":\"\(pad)\"}"
        stats.sendTimes[k] = ts
        stats.sent += 1
        transport.publish(channel: channel, dataJSON: data, stats: stats)
        k += 1
        scheduleNext()
    }
}

/// Pad length so that the pushed frame `{"channel":C,"offset":N,"data":{"seq":N,"ts":T,"pad":"..."}}` plus its
/// WebSocket header is about `payloadBytes` bytes.
func padLength(payloadBytes: Int, channel: String, totalPubs: Int) -> Int {
    let nDigits = String(max(1, totalPubs)).count
    let tsDigits = String(monoNanos()).count
    let base = "{\"channel\":\"\(channel)\",\"offset\":,\"data\":{\"seq\":,\"ts\":,\"pad\":\"\"}}".utf8.count
        + 2 * nDigits + tsDigits
    var header = 2
    if payloadBytes - 2 >= 126 { header = 4 }
    return max(0, payloadBytes - header - base)
}
