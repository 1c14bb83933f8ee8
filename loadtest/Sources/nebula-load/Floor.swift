// `nebula-load floor`: what the kernel alone costs for a broadcast on this machine.
//
// Bare threads write one prebuilt WebSocket frame per publication to every accepted loopback socket
// (no server, no pipeline, no JSON encoding: ≈ 0 user-space work per delivery) and the same epoll
// subscribers as `broadcast --engine epoll` read them. The latency and CPU it reports are the floor
// any server in any language pays here for the same fan-out, so a server's figure can be read against it.

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Histogram
import NIOConcurrencyHelpers

struct Floor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Kernel floor of a broadcast: bare write() per subscriber socket, epoll subscribers, no server.")

    @Option(help: "Subscriber sockets.")
    var subscribers: Int = 10000

    @Option(help: "Publications per second.")
    var rate: Double = 10

    @Option(help: "Sender threads (the replicas), each writing to its share of the sockets.")
    var senders: Int = 2

    @Option(help: "Subscriber (epoll) threads.")
    var threads: Int = 1

    @Option(help: "Measured window in seconds (after the warmup).")
    var duration: Double = 20

    @Option(help: "Seconds of publishing before the measured window starts.")
    var warmup: Double = 3

    @Option(help: "Approximate size in bytes of each frame (header included).")
    var payloadBytes: Int = 240

    @Option(help: "Append the JSON result as one line to this file.")
    var jsonOut: String?

    func run() throws {
        raiseFileLimit()
        let totalPubs = Int((rate * (warmup + duration)).rounded())
        let workers = (0..<max(1, threads)).map { _ in EpollWorker(channel: "floor", expectedSeqs: totalPubs, pollMicros: 0) }
        for worker in workers { worker.start() }

        // The senders are a child process (a process may hold only so many descriptors): it accepts on
        // this listener and, once it has every socket, says on its stdout when publication 0 goes out.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        listen(listener, 4096)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        var pipeFds: [Int32] = [0, 0]
        pipe(&pipeFds)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, pipeFds[1], 1)
        let arguments = [
            "nebula-load", "floor-senders", "--fd", "\(listener)", "--subscribers", "\(subscribers)", "--senders", "\(senders)",
            "--rate", "\(rate)", "--total", "\(totalPubs)", "--payload-bytes", "\(payloadBytes)",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var child: pid_t = 0
        guard posix_spawn(&child, "/proc/self/exe", &actions, nil, &argv, environ) == 0 else { throw LoadError("posix_spawn failed") }
        close(pipeFds[1])
        close(listener)

        var one: Int32 = 1
        for k in 0..<subscribers {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw LoadError("connect: errno \(errno)") }
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            workers[k % workers.count].adoptReady(fd: client)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(pipeFds[0], &byte, 1) == 1, byte != 0x0A { line.append(byte) }
        guard let startNs = UInt64(String(decoding: line, as: UTF8.self).split(separator: " ").last ?? "") else {
            throw LoadError("the sender process did not start")
        }
        let windowStart = startNs + UInt64(warmup * 1e9)
        let windowEnd = windowStart + UInt64(duration * 1e9)
        for worker in workers {
            worker.lock.withLock {
                worker.windowStart = windowStart
                worker.windowEnd = windowEnd
            }
        }
        sleepUntil(windowStart)
        let w0 = processCPUSplitMicros(pid: "self") ?? (.nan, .nan)
        let s0 = processCPUMicros(pid: "\(child)") ?? .nan
        sleepUntil(windowEnd)
        let w1 = processCPUSplitMicros(pid: "self") ?? (.nan, .nan)
        let s1 = processCPUMicros(pid: "\(child)") ?? .nan
        var status: Int32 = 0
        waitpid(child, &status, 0)
        sleepSeconds(1)

        var hist = Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var delivered: UInt64 = 0
        var missing = 0
        let windowSeqs = (0..<totalPubs).filter { seq in
            let t = startNs + UInt64(Double(seq) / rate * 1e9)
            return t >= windowStart && t < windowEnd
        }
        for worker in workers {
            worker.lock.withLock {
                hist.add(worker.hist)
                delivered += worker.windowSeqDeliveries
                for subscriber in worker.ready {
                    for s in windowSeqs where !subscriber.hasSeq(s) { missing += 1 }
                }
            }
        }
        let windowMicros = duration * 1e6
        let senderCPU = s1 - s0
        let readerCPU = w1.user + w1.sys - w0.user - w0.sys
        let deliveries = Double(delivered)
        func ms(_ p: Double) -> Double { hist.totalCount > 0 ? Double(hist.valueAtPercentile(p)) / 1000 : .nan }
        let rows: [(String, String)] = [
            ("subscribers / senders / readers", "\(subscribers) / \(senders) / \(threads)"),
            ("publications in window", "\(windowSeqs.count) at \(rate)/s"),
            ("delivered (window pubs)", "\(delivered), missing \(missing)"),
            ("latency p50 / p99 / p99.9", String(format: "%.2f / %.2f / %.2f ms", ms(50), ms(99), ms(99.9))),
            ("latency max", String(format: "%.2f ms", hist.totalCount > 0 ? Double(hist.max) / 1000 : .nan)),
            ("senders CPU", String(format: "%.1f %% of a core, %.2f µs per delivery", senderCPU / windowMicros * 100, senderCPU / deliveries)),
            ("readers CPU", String(format: "%.1f %% of a core, %.2f µs per delivery", readerCPU / windowMicros * 100, readerCPU / deliveries)),
        ]
        printTable(title: "nebula-load floor (kernel only)", rows)
        try emitJSON([
            "scenario": "floor", "timestamp": isoNow(),
            "params": ["subscribers": subscribers, "rate": rate, "senders": senders, "threads": threads,
                       "duration_s": duration, "warmup_s": warmup, "payload_bytes": payloadBytes] as [String: Any],
            "results": [
                "delivered_window_publications": delivered, "missing": missing,
                "latency_ms": ["p50": round3(ms(50)), "p99": round3(ms(99)), "p99_9": round3(ms(99.9))] as [String: Any],
                "senders_cpu_pct": round3(senderCPU / windowMicros * 100), "senders_us_per_delivery": round3(senderCPU / deliveries),
                "readers_cpu_pct": round3(readerCPU / windowMicros * 100), "readers_us_per_delivery": round3(readerCPU / deliveries),
            ] as [String: Any],
        ], to: jsonOut)
        for worker in workers {
            worker.closeAll()
            worker.stop()
        }
    }
}

/// The sending side of `floor`, started by it: accepts every subscriber socket on the inherited
/// listener, prints when publication 0 goes out, then publishes from `--senders` threads.
struct FloorSenders: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "floor-senders", shouldDisplay: false)

    @Option var fd: Int32
    @Option var subscribers: Int
    @Option var senders: Int
    @Option var rate: Double
    @Option var total: Int
    @Option var payloadBytes: Int

    func run() throws {
        raiseFileLimit()
        var sockets: [[Int32]] = Array(repeating: [], count: max(1, senders))
        var one: Int32 = 1
        for k in 0..<subscribers {
            let accepted = accept(fd, nil, nil)
            guard accepted >= 0 else { throw LoadError("accept: errno \(errno)") }
            setsockopt(accepted, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            sockets[k % sockets.count].append(accepted)
        }
        let startNs = monoNanos() + 300_000_000
        print("start \(startNs)")
        fflush(stdout)
        let pad = String(repeating: "x", count: padLength(payloadBytes: payloadBytes, channel: "floor", totalPubs: total))
        let threads = sockets.map { FloorSender(sockets: $0, total: total, rate: rate, startNs: startNs, pad: pad) }
        for thread in threads { thread.start() }
        for thread in threads { thread.join() }
    }
}

/// One sender thread: at each publication time writes the same frame to all of its sockets.
final class FloorSender: @unchecked Sendable {
    let sockets: [Int32]
    let total: Int
    let rate: Double
    let startNs: UInt64
    let pad: String
    private var thread = pthread_t()

    init(sockets: [Int32], total: Int, rate: Double, startNs: UInt64, pad: String) {
        self.sockets = sockets
        self.total = total
        self.rate = rate
        self.startNs = startNs
        self.pad = pad
    }

    func start() {
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { arg in
            Unmanaged<FloorSender>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, box.toOpaque())
    }

    func join() { pthread_join(thread, nil) }

    private func run() {
        for seq in 0..<total {
            let due = startNs + UInt64(Double(seq) / rate * 1e9)
            sleepUntil(due)
            let json = "{\"channel\":\"floor\",\"offset\":\(seq + 1),\"data\":{\"seq\":\(seq),\"ts\":\(due),\"pad\":\"\(pad)\"}}"
            var frame: [UInt8] = [0x81]
            let payload = Array(json.utf8)
            if payload.count < 126 { frame.append(UInt8(payload.count)) } else {
                frame.append(126)
                frame.append(UInt8(payload.count >> 8))
                frame.append(UInt8(payload.count & 0xFF))
            }
            frame.append(contentsOf: payload)
            frame.withUnsafeBytes { bytes in
                for fd in sockets { _ = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }
}
