import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

// MARK: - Target

struct Target {
    var host: String
    var port: Int
    var path: String  // path + query sent in the request line
    var token: String
    var authInHeader: Bool

    init(url: String, token: String, authInHeader: Bool) throws {
        var rest = Substring(url)
        if rest.hasPrefix("ws://") { rest = rest.dropFirst(5) } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
        } else {
            throw LoadError("only ws:// URLs are supported (got \(url))")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/ws" }
        if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else { throw LoadError("bad port in \(url)") }
            port = p
        } else {
            host = String(hostPort)
            port = 80
        }
        self.token = token
        self.authInHeader = authInHeader
        if !authInHeader && !token.isEmpty {
            path += (path.contains("?") ? "&" : "?") + "token=" + token
        }
        self.path = path
    }

    var hostHeader: String { "\(host):\(port)" }
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

// MARK: - Per-event-loop state (only touched on its loop)

final class LoopState: @unchecked Sendable {
    let loop: EventLoop
    // latency in µs of deliveries of publications sent inside the measured window
    var hist = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    var windowStart: UInt64 = .max
    var windowEnd: UInt64 = .max
    var pushes: UInt64 = 0  // all pushes received
    var pushesInWindow: UInt64 = 0  // pushes whose receive time fell in the window
    var windowSeqDeliveries: UInt64 = 0  // first deliveries of seqs published in the window (any receive time)
    var duplicates: UInt64 = 0
    var unparsable: UInt64 = 0
    var serverCloseCodes: [Int: Int] = [:]  // close frames received from the server, by code
    var droppedWithoutClose = 0  // connections that went away without a close frame and not by us
    var conns: [Conn] = []  // connections that are up (subscribed if a channel was asked)

    init(loop: EventLoop) { self.loop = loop }
}

// MARK: - Connection handler

final class Conn: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let st: LoopState
    let subscribeChannel: String?
    let trackPushes: Bool
    var context: ChannelHandlerContext?
    var nextId: Int64 = 1
    var pending: [Int64: (Parsed) -> Void] = [:]
    var ready = false
    var closing = false  // we started the close
    var gone = false
    var gotCloseFrame = false
    var onReady: ((Result<Void, LoadError>) -> Void)?
    var onReplyFallback: ((Parsed) -> Void)?
    var seen: [UInt64] = []  // bitset of received seqs
    var fragment: ByteBuffer? = nil

    init(st: LoopState, subscribeChannel: String?, trackPushes: Bool, expectedSeqs: Int) {
        self.st = st
        self.subscribeChannel = subscribeChannel
        self.trackPushes = trackPushes
        if trackPushes { seen = [UInt64](repeating: 0, count: expectedSeqs / 64 + 1) }
    }

    // Called once the WebSocket pipeline is in place.
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let ch = subscribeChannel {
            send(op: "subscribe", extra: ",\"channel\":\"\(ch)\"") { [weak self] r in
                guard let self else { return }
                if r.hasResult {
                    self.becomeReady()
                } else {
                    self.fail("subscribe refused: \(r.errorCode ?? "?")")
                }
            }
        } else {
            becomeReady()
        }
    }

    private func becomeReady() {
        ready = true
        st.conns.append(self)
        let cb = onReady
        onReady = nil
        cb?(.success(()))
    }

    private func fail(_ why: String) {
        let cb = onReady
        onReady = nil
        cb?(.failure(LoadError(why)))
        closeNow()
    }

    @discardableResult
    func send(op: String, extra: String = "", onReply: ((Parsed) -> Void)? = nil) -> Int64 {
        let id = nextId
        nextId += 1
        if let onReply { pending[id] = onReply }
        sendText("{\"id\":\(id),\"op\":\"\(op)\"\(extra)}")
        return id
    }

    func sendText(_ s: String) {
        guard let context, !gone else { return }
        var buf = context.channel.allocator.buffer(capacity: s.utf8.count)
        buf.writeString(s)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buf)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Sends a close frame (1000) and closes the TCP connection shortly after.
    func closeNow() {
        guard let context, !closing else { return }
        closing = true
        if !gone {
            var buf = context.channel.allocator.buffer(capacity: 2)
            buf.writeInteger(UInt16(1000))
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: buf)
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin { handleText(frame.data) } else { fragment = frame.data }
        case .continuation:
            guard var f = fragment else { return }
            var d = frame.data
            f.writeBuffer(&d)
            if frame.fin {
                fragment = nil
                handleText(f)
            } else {
                fragment = f
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            gotCloseFrame = true
            if !closing {
                var d = frame.data
                let code = d.readInteger(as: UInt16.self).map(Int.init) ?? 1005
                st.serverCloseCodes[code, default: 0] += 1
                // echo the close, then drop the connection
                closing = true
                var buf = context.channel.allocator.buffer(capacity: 2)
                buf.writeInteger(UInt16(code == 1005 ? 1000 : code))
                let echo = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: buf)
                context.writeAndFlush(wrapOutboundOut(echo)).whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    @inline(__always) private func handleText(_ buf: ByteBuffer) {
        let m = buf.withUnsafeReadableBytes { parseMessage($0) }
        if !m.ok {
            st.unparsable += 1
            return
        }
        if m.hasId {
            if let cb = pending.removeValue(forKey: m.id) { cb(m) } else { onReplyFallback?(m) }
            return
        }
        guard trackPushes else { return }
        let now = monoNanos()
        st.pushes += 1
        if now >= st.windowStart && now < st.windowEnd { st.pushesInWindow += 1 }
        guard m.seq >= 0 else { return }
        let seq = Int(m.seq)
        let word = seq >> 6
        if word >= seen.count { seen.append(contentsOf: repeatElement(0, count: word - seen.count + 1)) }
        let bit: UInt64 = 1 << UInt64(seq & 63)
        if seen[word] & bit != 0 {
            st.duplicates += 1
            return
        }
        seen[word] |= bit
        let ts = UInt64(max(0, m.ts))
        if ts >= st.windowStart && ts < st.windowEnd {
            st.windowSeqDeliveries += 1
            let us = now > ts ? (now - ts) / 1000 : 0
            _ = st.hist.record(max(1, us))
        }
    }

    @inline(__always) func hasSeq(_ seq: Int) -> Bool {
        let word = seq >> 6
        return word < seen.count && seen[word] & (1 << UInt64(seq & 63)) != 0
    }

    func channelInactive(context: ChannelHandlerContext) {
        gone = true
        if ready && !closing && !gotCloseFrame { st.droppedWithoutClose += 1 }
        if !ready { fail("connection closed before it was ready") }
        for (_, cb) in pending {
            var p = Parsed()
            p.hasError = true
            p.errorCode = "connection_closed"
            cb(p)
        }
        pending.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

// MARK: - Upgrade request / refusal handling

final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let target: Target
    var onRefused: ((String) -> Void)?

    init(target: Target) { self.target = target }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        if target.authInHeader { headers.add(name: "Authorization", value: "Bearer \(target.token)") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    // Only reached when the upgrade was refused.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let h) = unwrapInboundIn(data) {
            onRefused?("upgrade refused: HTTP \(h.status.code)")
            onRefused = nil
            context.close(promise: nil)
        }
    }
}

// MARK: - Connecting with retries

struct ConnectSpec {
    var target: Target
    var subscribeChannel: String?
    var trackPushes: Bool
    var expectedSeqs: Int
    var maxAttempts: Int = 4
    var handshakeTimeout: TimeAmount = .seconds(15)
}

/// Opens one WebSocket connection on `st.loop`, retrying failures; `done` is called on the loop.
func openConnection(
    _ spec: ConnectSpec, st: LoopState, attempt: Int = 1,
    done: @escaping (Result<Conn, LoadError>, _ attempts: Int) -> Void
) {
    let loop = st.loop
    let conn = Conn(
        st: st, subscribeChannel: spec.subscribeChannel, trackPushes: spec.trackPushes,
        expectedSeqs: spec.expectedSeqs)
    let reqHandler = UpgradeRequestHandler(target: spec.target)
    var finished = false
    var timeoutTask: Scheduled<Void>? = nil
    var channelRef: Channel? = nil

    func finish(_ r: Result<Conn, LoadError>, retryable: Bool) {
        loop.preconditionInEventLoop()
        if finished { return }
        finished = true
        timeoutTask?.cancel()
        switch r {
        case .success:
            done(r, attempt)
        case .failure:
            channelRef?.close(promise: nil)
            if retryable && attempt < spec.maxAttempts {
                let backoff = TimeAmount.milliseconds(Int64(200 * attempt * attempt))
                loop.scheduleTask(in: backoff) {
                    openConnection(spec, st: st, attempt: attempt + 1, done: done)
                }
            } else {
                done(r, attempt)
            }
        }
    }

    conn.onReady = { r in
        switch r {
        case .success: finish(.success(conn), retryable: false)
        case .failure(let e): finish(.failure(e), retryable: !e.description.hasPrefix("subscribe refused"))
        }
    }
    reqHandler.onRefused = { why in finish(.failure(LoadError(why)), retryable: false) }

    timeoutTask = loop.scheduleTask(in: spec.handshakeTimeout) {
        finish(.failure(LoadError("handshake/subscribe timeout")), retryable: true)
    }

    let upgrader = NIOWebSocketClientUpgrader(
        maxFrameSize: 1 << 20, automaticErrorHandling: false,
        upgradePipelineHandler: { channel, _ in
            // Take the HTTP request handler out before the WebSocket handler goes in, so no frame reaches it.
            channel.pipeline.removeHandler(reqHandler).flatMap {
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(conn)
                }
            }
        })

    ClientBootstrap(group: loop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connectTimeout(.seconds(10))
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let config: NIOHTTPClientUpgradeConfiguration = (
                    upgraders: [upgrader],
                    completionHandler: { _ in }
                )
                try channel.pipeline.syncOperations.addHTTPClientHandlers(withClientUpgrade: config)
                try channel.pipeline.syncOperations.addHandler(reqHandler)
            }
        }
        .connect(host: spec.target.host, port: spec.target.port)
        .whenComplete { r in
            switch r {
            case .success(let ch):
                channelRef = ch
                if finished { ch.close(promise: nil) }
                ch.closeFuture.whenComplete { _ in
                    if !conn.ready { finish(.failure(LoadError("closed during handshake")), retryable: true) }
                }
            case .failure(let e):
                finish(.failure(LoadError("connect: \(e)")), retryable: true)
            }
        }
}

// MARK: - Ramped opening of many connections

final class RampResult: @unchecked Sendable {
    let lock = NIOLock()
    var ok = 0
    var failed = 0
    var retried = 0
    var failureReasons: [String: Int] = [:]
    var inFlight = 0
}

/// Opens `count` connections spread round-robin over `states`, at most `perSec` connects per second and at
/// most `maxInFlight` handshakes at once. Blocks the calling (non-loop) thread until all are done or `timeout`.
func rampOpen(
    count: Int, perSec: Int, maxInFlight: Int, timeoutSeconds: Double, states: [LoopState],
    spec: ConnectSpec, progressLabel: String, otherSpecs: [ConnectSpec] = []
) -> RampResult {
    // Connection i goes to specs[i % n]: subscribers spread evenly over several servers (replicas).
    let specs = [spec] + otherSpecs
    let res = RampResult()
    let start = monoNanos()
    let deadline = start + UInt64(timeoutSeconds * 1e9)
    let interval = 1e9 / Double(max(1, perSec))
    var lastReport = start
    var i = 0
    while i < count {
        // pace: connection i may start at start + i*interval
        let due = start + UInt64(Double(i) * interval)
        let now = monoNanos()
        if now < due { sleepUntil(min(due, now + 2_000_000)); continue }
        if now > deadline { break }
        let busy = res.lock.withLock { res.inFlight }
        if busy >= maxInFlight { sleepUntil(now + 1_000_000); continue }
        res.lock.withLock { res.inFlight += 1 }
        let st = states[i % states.count]
        let spec = specs[i % specs.count]
        st.loop.execute {
            openConnection(spec, st: st) { r, attempts in
                res.lock.withLock {
                    res.inFlight -= 1
                    if attempts > 1 { res.retried += 1 }
                    switch r {
                    case .success: res.ok += 1
                    case .failure(let e):
                        res.failed += 1
                        res.failureReasons[e.description, default: 0] += 1
                    }
                }
            }
        }
        i += 1
        if now - lastReport > 2_000_000_000 {
            lastReport = now
            let (ok, f) = res.lock.withLock { (res.ok, res.failed) }
            log("  \(progressLabel): \(ok) up, \(f) failed, \(i) started of \(count)")
        }
    }
    // never-started connections count as failed
    if i < count { res.lock.withLock { res.failed += count - i; res.failureReasons["not started (timeout)", default: 0] += count - i } }
    while monoNanos() < deadline {
        let (fl, _) = res.lock.withLock { (res.inFlight, 0) }
        if fl == 0 { break }
        sleepSeconds(0.01)
    }
    return res
}

func log(_ s: String) {
    fputs(s + "\n", stderr)
}
