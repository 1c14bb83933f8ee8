// Subscribers on bare non-blocking sockets and epoll, for `broadcast --engine epoll`.
//
// Why: on a 2-core machine the load generator shares the CPU with the servers it measures. The NIO
// client costs ≈6.5 µs per received frame (pipeline, frame decoder, promises); this one reads each
// socket with one recv() into a per-thread buffer and walks the frames in place, so more of the box
// is left to the servers and the latency measured is theirs, not the tool's queueing.
//
// Scope: exactly what a subscriber needs — HTTP upgrade (status 101 checked), one masked
// `subscribe` command, unmasked server text frames (fragmented ones reassembled), ping → pong,
// close → close echo. No extensions are offered, so the server never compresses.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CEpoll
import Histogram
import NIOConcurrencyHelpers

/// One subscriber socket; touched only by its worker thread (under the worker's lock).
final class RawSubscriber {
    enum Phase { case upgrading, subscribing, ready, closed }

    let fd: Int32
    var phase = Phase.upgrading
    var pendingBytes: [UInt8] = []  // bytes of an incomplete response / frame from the last read
    var fragment: [UInt8]? = nil
    var seen: [UInt64]
    var closing = false
    var gotCloseFrame = false

    init(fd: Int32, expectedSeqs: Int) {
        self.fd = fd
        seen = [UInt64](repeating: 0, count: expectedSeqs / 64 + 1)
    }

    @inline(__always) func hasSeq(_ seq: Int) -> Bool {
        let word = seq >> 6
        return word < seen.count && seen[word] & (1 << UInt64(seq & 63)) != 0
    }
}

/// One thread with its own epoll set and its share of the subscribers and of the measurements.
final class EpollWorker: @unchecked Sendable {
    let lock = NIOLock()
    private let epfd: Int32
    private var subscribers: [Int32: RawSubscriber] = [:]
    private var stopRequested = false
    private var thread: pthread_t? = nil
    private let subscribeFrame: [UInt8]
    private let expectedSeqs: Int

    // Measurements, read by the main thread under `lock`.
    var hist = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    var windowStart: UInt64 = .max
    var windowEnd: UInt64 = .max
    var pushesInWindow: UInt64 = 0
    var windowSeqDeliveries: UInt64 = 0
    var duplicates: UInt64 = 0
    var unparsable: UInt64 = 0
    var serverCloseCodes: [Int: Int] = [:]
    var droppedWithoutClose = 0
    var ready: [RawSubscriber] = []
    var failures: [String: Int] = [:]

    /// > 0: poll every this many µs instead of sleeping in epoll_wait (see `--poll-interval`).
    private let pollMicros: UInt32

    init(channel: String, expectedSeqs: Int, pollMicros: UInt32) {
        self.pollMicros = pollMicros
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        self.expectedSeqs = expectedSeqs
        subscribeFrame = maskedFrame(opcode: 0x1, payload: Array("{\"id\":1,\"op\":\"subscribe\",\"channel\":\"\(channel)\"}".utf8))
    }

    func start() {
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        pthread_create(&t, nil, { arg in
            let worker = Unmanaged<EpollWorker>.fromOpaque(arg!).takeRetainedValue()
            worker.run()
            return nil
        }, box.toOpaque())
        thread = t
    }

    func stop() {
        lock.withLock { stopRequested = true }
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    /// Takes over a connected socket whose upgrade request is already written.
    func adopt(fd: Int32) {
        let subscriber = RawSubscriber(fd: fd, expectedSeqs: expectedSeqs)
        lock.withLock { subscribers[fd] = subscriber }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = fd
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event)
    }

    /// Takes over a socket that is already past the handshake (the `floor` experiment's raw peers).
    func adoptReady(fd: Int32) {
        let subscriber = RawSubscriber(fd: fd, expectedSeqs: expectedSeqs)
        subscriber.phase = .ready
        lock.withLock {
            subscribers[fd] = subscriber
            ready.append(subscriber)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = fd
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event)
    }

    var settledCount: Int { lock.withLock { ready.count + failures.values.reduce(0, +) } }

    /// Sends a close frame to every subscriber and closes its socket.
    func closeAll() {
        lock.withLock {
            let close = maskedFrame(opcode: 0x8, payload: [0x03, 0xE8])
            for subscriber in subscribers.values where subscriber.phase != .closed {
                subscriber.closing = true
                writeAll(subscriber.fd, close)
                Glibc.close(subscriber.fd)
                subscriber.phase = .closed
            }
            subscribers.removeAll()
        }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 512)
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epfd, $0.baseAddress, Int32($0.count), pollMicros > 0 ? 0 : 50) }
            if n == 0, pollMicros > 0 { usleep(pollMicros) }
            lock.lock()
            defer { lock.unlock() }
            if stopRequested { return }
            guard n > 0 else { continue }
            for k in 0..<Int(n) {
                guard let subscriber = subscribers[events[k].data.fd], subscriber.phase != .closed else { continue }
                readAvailable(subscriber, into: &buffer)
            }
        }
    }

    private func readAvailable(_ subscriber: RawSubscriber, into buffer: inout [UInt8]) {
        while subscriber.phase != .closed {
            let n = buffer.withUnsafeMutableBytes { recv(subscriber.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                gone(subscriber, why: "recv: errno \(errno)")
                return
            }
            if n == 0 {
                gone(subscriber, why: "connection closed by the server")
                return
            }
            if subscriber.pendingBytes.isEmpty {
                let used = buffer.withUnsafeBytes { consume(subscriber, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                if used < n { subscriber.pendingBytes.append(contentsOf: buffer[used..<n]) }
            } else {
                subscriber.pendingBytes.append(contentsOf: buffer[0..<n])
                let all = subscriber.pendingBytes
                let used = all.withUnsafeBytes { consume(subscriber, $0) }
                subscriber.pendingBytes = Array(all[used...])
            }
            if n < buffer.count { return }
        }
    }

    /// Handles what `bytes` holds; returns how many bytes were used (the rest waits for more).
    private func consume(_ subscriber: RawSubscriber, _ bytes: UnsafeRawBufferPointer) -> Int {
        var at = 0
        if subscriber.phase == .upgrading {
            guard let end = headerEnd(bytes) else { return 0 }
            let statusOK = bytes.count >= 12 && bytes[9] == 0x31 && bytes[10] == 0x30 && bytes[11] == 0x31  // "101"
            guard statusOK else {
                fail(subscriber, why: "upgrade refused: " + String(decoding: bytes[9..<min(12, bytes.count)], as: UTF8.self))
                return bytes.count
            }
            subscriber.phase = .subscribing
            writeAll(subscriber.fd, subscribeFrame)
            at = end
        }
        while subscriber.phase != .closed, bytes.count - at >= 2 {
            let b0 = bytes[at], b1 = bytes[at + 1]
            var length = Int(b1 & 0x7F)
            var header = 2
            if length == 126 {
                guard bytes.count - at >= 4 else { break }
                length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
                header = 4
            } else if length == 127 {
                guard bytes.count - at >= 10 else { break }
                length = 0
                for j in 2..<10 { length = length << 8 | Int(bytes[at + j]) }
                header = 10
            }
            guard bytes.count - at >= header + length else { break }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(at + header)..<(at + header + length)])
            at += header + length
            frame(subscriber, fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload)
        }
        return at
    }

    private func frame(_ subscriber: RawSubscriber, fin: Bool, opcode: UInt8, _ payload: UnsafeRawBufferPointer) {
        switch opcode {
        case 0x1:
            if fin { text(subscriber, payload) } else { subscriber.fragment = Array(payload) }
        case 0x0:
            guard subscriber.fragment != nil else { return }
            subscriber.fragment!.append(contentsOf: payload)
            if fin, let whole = subscriber.fragment {
                subscriber.fragment = nil
                whole.withUnsafeBytes { text(subscriber, $0) }
            }
        case 0x9:
            writeAll(subscriber.fd, maskedFrame(opcode: 0xA, payload: Array(payload)))
        case 0x8:
            subscriber.gotCloseFrame = true
            let code = payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : 1005
            if !subscriber.closing {
                serverCloseCodes[code, default: 0] += 1
                writeAll(subscriber.fd, maskedFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)]))
            }
            gone(subscriber, why: "closed by the server with \(code)")
        default:
            break
        }
    }

    @inline(__always) private func text(_ subscriber: RawSubscriber, _ payload: UnsafeRawBufferPointer) {
        let m = parseMessage(payload)
        guard m.ok else {
            unparsable += 1
            return
        }
        if m.hasId {
            guard subscriber.phase == .subscribing, m.id == 1 else { return }
            if m.hasResult {
                subscriber.phase = .ready
                ready.append(subscriber)
            } else {
                fail(subscriber, why: "subscribe refused: \(m.errorCode ?? "?")")
            }
            return
        }
        let now = monoNanos()
        if now >= windowStart && now < windowEnd { pushesInWindow += 1 }
        guard m.seq >= 0 else { return }
        let seq = Int(m.seq)
        let word = seq >> 6
        if word >= subscriber.seen.count {
            subscriber.seen.append(contentsOf: repeatElement(0, count: word - subscriber.seen.count + 1))
        }
        let bit: UInt64 = 1 << UInt64(seq & 63)
        if subscriber.seen[word] & bit != 0 {
            duplicates += 1
            return
        }
        subscriber.seen[word] |= bit
        let ts = UInt64(max(0, m.ts))
        if ts >= windowStart && ts < windowEnd {
            windowSeqDeliveries += 1
            let us = now > ts ? (now - ts) / 1000 : 0
            _ = hist.record(max(1, us))
        }
    }

    private func fail(_ subscriber: RawSubscriber, why: String) {
        failures[why, default: 0] += 1
        shut(subscriber)
    }

    private func gone(_ subscriber: RawSubscriber, why: String) {
        switch subscriber.phase {
        case .ready:
            if !subscriber.closing && !subscriber.gotCloseFrame { droppedWithoutClose += 1 }
            shut(subscriber)
        case .upgrading, .subscribing:
            fail(subscriber, why: why)
        case .closed:
            break
        }
    }

    private func shut(_ subscriber: RawSubscriber) {
        subscriber.phase = .closed
        epoll_ctl(epfd, EPOLL_CTL_DEL, subscriber.fd, nil)
        Glibc.close(subscriber.fd)
    }
}

/// Opens subscribers at a steady pace, spread round-robin over `targets` and `workers`.
/// Returns once every one is subscribed or failed, or at `timeoutSeconds`.
func rampOpenEpoll(
    count: Int, perSec: Int, timeoutSeconds: Double, workers: [EpollWorker], targets: [Target], progressLabel: String
) -> RampResult {
    let res = RampResult()
    let start = monoNanos()
    let deadline = start + UInt64(timeoutSeconds * 1e9)
    let interval = 1e9 / Double(max(1, perSec))
    var lastReport = start
    var started = 0
    while started < count, monoNanos() < deadline {
        let due = start + UInt64(Double(started) * interval)
        if monoNanos() < due { sleepUntil(due) }
        let target = targets[started % targets.count]
        var attempt = 1
        while true {
            switch connectAndRequestUpgrade(target) {
            case .success(let fd):
                workers[started % workers.count].adopt(fd: fd)
            case .failure(let error):
                if attempt < 4 {
                    attempt += 1
                    res.retried += 1
                    sleepSeconds(0.2 * Double(attempt * attempt))
                    continue
                }
                res.failed += 1
                res.failureReasons[error.description, default: 0] += 1
            }
            break
        }
        started += 1
        let now = monoNanos()
        if now - lastReport > 2_000_000_000 {
            lastReport = now
            log("  \(progressLabel): \(workers.map(\.settledCount).reduce(0, +)) settled, \(started) started of \(count)")
        }
    }
    if started < count {
        res.failed += count - started
        res.failureReasons["not started (timeout)", default: 0] += count - started
    }
    while monoNanos() < deadline, workers.map(\.settledCount).reduce(0, +) + res.failed < count {
        sleepSeconds(0.01)
    }
    for worker in workers {
        worker.lock.withLock {
            res.ok += worker.ready.count
            for (why, n) in worker.failures {
                res.failed += n
                res.failureReasons[why, default: 0] += n
            }
        }
    }
    return res
}

/// A blocking connect on loopback, the upgrade request written, then the socket made non-blocking.
private func connectAndRequestUpgrade(_ target: Target) -> Result<Int32, LoadError> {
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var info: UnsafeMutablePointer<addrinfo>? = nil
    guard getaddrinfo(target.host, String(target.port), &hints, &info) == 0, let first = info else {
        return .failure(LoadError("cannot resolve \(target.host)"))
    }
    defer { freeaddrinfo(info) }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return .failure(LoadError("socket: errno \(errno)")) }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
        let e = errno
        Glibc.close(fd)
        return .failure(LoadError("connect: errno \(e)"))
    }
    var request = "GET \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUpgrade: websocket\r\n"
    request += "Connection: Upgrade\r\nSec-WebSocket-Key: bmVidWxhLWxvYWQtdG9vbA==\r\nSec-WebSocket-Version: 13\r\n"
    if target.authInHeader { request += "Authorization: Bearer \(target.token)\r\n" }
    request += "\r\n"
    guard writeAll(fd, Array(request.utf8)) else {
        Glibc.close(fd)
        return .failure(LoadError("write of the upgrade request failed"))
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return .success(fd)
}

/// Writes everything, waiting briefly when a non-blocking socket is full (small control frames only).
@discardableResult
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var at = 0
    var spins = 0
    while at < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + at, bytes.count - at, Int32(MSG_NOSIGNAL)) }
        if n > 0 {
            at += n
        } else if n < 0, errno == EAGAIN || errno == EINTR, spins < 1000 {
            spins += 1
            usleep(1000)
        } else {
            return false
        }
    }
    return true
}

/// A client frame (RFC 6455 §5.3: clients mask everything they send).
private func maskedFrame(opcode: UInt8, payload: [UInt8]) -> [UInt8] {
    var frame: [UInt8] = [0x80 | opcode]
    if payload.count < 126 {
        frame.append(0x80 | UInt8(payload.count))
    } else {
        frame.append(0x80 | 126)
        frame.append(UInt8(payload.count >> 8))
        frame.append(UInt8(payload.count & 0xFF))
    }
    let mask: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
    frame.append(contentsOf: mask)
    for (k, byte) in payload.enumerated() { frame.append(byte ^ mask[k & 3]) }
    return frame
}

/// End of the HTTP response head (index after "\r\n\r\n"), nil while incomplete.
private func headerEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
    guard bytes.count >= 4 else { return nil }
    for k in 3..<bytes.count where bytes[k] == 0x0A && bytes[k - 1] == 0x0D && bytes[k - 2] == 0x0A && bytes[k - 3] == 0x0D {
        return k + 1
    }
    return nil
}
