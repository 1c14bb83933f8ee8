import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix

@main
struct NebulaLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nebula-load",
        abstract: "Load tool for Nebula protocol v1 (JSON over WebSocket pub/sub) servers.",
        subcommands: [Idle.self, Broadcast.self, Floor.self, FloorSenders.self]
    )
}

struct CommonOptions: ParsableArguments {
    @Option(help: "WebSocket URL of the server.")
    var url: String = "ws://127.0.0.1:8080/ws"

    @Option(help: "API key.")
    var token: String = ProcessInfo.processInfo.environment["NEBULA_API_KEY"] ?? ""

    @Option(help: "Where the key goes: query (?token=) or header (Authorization: Bearer).")
    var auth: String = "query"

    @Option(help: "PID of the server process (for /proc RSS and CPU).")
    var serverPid: String

    @Option(help: "Event-loop threads for the subscriber connections.")
    var threads: Int = 1

    @Option(help: "New connections started per second while ramping up.")
    var rampPerSec: Int = 2000

    @Option(help: "Most WebSocket handshakes in flight at once while ramping up.")
    var maxInFlight: Int = 256

    @Option(help: "Label of the server under test, copied into the JSON result.")
    var label: String = "unlabeled"

    @Option(help: "Append the JSON result as one line to this file.")
    var jsonOut: String?

    func target() throws -> Target {
        guard auth == "query" || auth == "header" else { throw ValidationError("--auth must be query or header") }
        return try Target(url: url, token: token, authInHeader: auth == "header")
    }
}

// MARK: - idle

struct Idle: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hold N subscribed idle connections and measure the server's memory per connection.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Connections to open.")
    var connections: Int = 10000

    @Option(help: "Channel each connection subscribes to.")
    var channel: String = "app.idle"

    @Option(help: "Seconds to wait after the last subscribe reply before reading the server's RSS.")
    var settle: Double = 5

    @Option(help: "Connections pinged afterwards to check they are still usable.")
    var pingSample: Int = 1000

    @Option(help: "Give up ramping after this many seconds.")
    var rampTimeout: Double = 120

    func run() throws {
        let (soft, _) = raiseFileLimit()
        if soft < UInt64(connections + 64) {
            log("warning: RLIMIT_NOFILE is \(soft), below \(connections + 64): raise `ulimit -n`")
        }
        let target = try common.target()
        let pid = common.serverPid
        guard let rss0 = processRSSKiB(pid: pid) else { throw LoadError("cannot read /proc/\(pid)/status") }
        let load0 = checkLoad()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, common.threads))
        defer { try? group.syncShutdownGracefully() }
        let states = group.makeIterator().map { LoopState(loop: $0) }

        log("idle: opening \(connections) connections to \(target.host):\(target.port) (\(common.rampPerSec)/s)")
        let t0 = monoNanos()
        let spec = ConnectSpec(target: target, subscribeChannel: channel, trackPushes: false, expectedSeqs: 0)
        let ramp = rampOpen(
            count: connections, perSec: common.rampPerSec, maxInFlight: common.maxInFlight,
            timeoutSeconds: rampTimeout, states: states, spec: spec, progressLabel: "idle")
        let rampSeconds = Double(monoNanos() - t0) / 1e9
        log("idle: \(ramp.ok) up, \(ramp.failed) failed in \(String(format: "%.1f", rampSeconds)) s; settling \(settle) s")
        sleepSeconds(settle)
        let rss1 = processRSSKiB(pid: pid) ?? 0

        // Still open? Count live connections and ping a sample of them.
        let alive = states.map { st in
            try! st.loop.submit { st.conns.filter { !$0.gone && !$0.closing }.count }.wait()
        }.reduce(0, +)
        let sampleEach = max(1, pingSample / max(1, states.count))
        let pingOK = PingCounter()
        var pingsSent = 0
        for st in states {
            pingsSent += try st.loop.submit { () -> Int in
                let live = st.conns.filter { !$0.gone && !$0.closing }
                let step = max(1, live.count / sampleEach)
                var n = 0
                var idx = 0
                while idx < live.count && n < sampleEach {
                    live[idx].send(op: "ping") { r in if r.hasResult { pingOK.ok += 1 } else { pingOK.bad += 1 } }
                    n += 1
                    idx += step
                }
                return n
            }.wait()
        }
        let pingDeadline = monoNanos() + 10_000_000_000
        var pongs = 0
        while monoNanos() < pingDeadline {
            pongs = states.map { st in try! st.loop.submit { pingOK.ok + pingOK.bad }.wait() }.reduce(0, +)
            if pongs >= pingsSent { break }
            sleepSeconds(0.02)
        }
        let pingOKCount = states.map { st in try! st.loop.submit { pingOK.ok }.wait() }.reduce(0, +)
        let closeCodes = mergeCloseCodes(states)
        let dropped = states.map { st in try! st.loop.submit { st.droppedWithoutClose }.wait() }.reduce(0, +)

        closeAll(states)

        let held = ramp.ok
        let kib = held > 0 ? Double(rss1 - rss0) / Double(held) : 0
        let rows: [(String, String)] = [
            ("server", common.label),
            ("connections requested", "\(connections)"),
            ("connections held", "\(held)"),
            ("connect failures", "\(ramp.failed)" + (ramp.failureReasons.isEmpty ? "" : " \(ramp.failureReasons)")),
            ("connections retried", "\(ramp.retried)"),
            ("ramp time", String(format: "%.2f s", rampSeconds)),
            ("server RSS before", "\(rss0) KiB"),
            ("server RSS after", "\(rss1) KiB"),
            ("KiB per idle connection", String(format: "%.2f", kib)),
            ("still open after settle", "\(alive) of \(held)"),
            ("ping sample ok", "\(pingOKCount) of \(pingsSent)"),
            ("server closes", closeCodes.isEmpty ? "0" : "\(closeCodes)"),
            ("dropped without close", "\(dropped)"),
        ]
        printTable(title: "nebula-load idle", rows)
        let json: [String: Any] = [
            "scenario": "idle",
            "timestamp": isoNow(),
            "label": common.label,
            "params": [
                "url": common.url, "connections": connections, "channel": channel, "settle_s": settle,
                "ramp_per_sec": common.rampPerSec, "threads": common.threads, "ping_sample": pingSample,
                "server_pid": pid,
            ] as [String: Any],
            "results": [
                "connections_held": held, "connect_failures": ramp.failed, "connections_retried": ramp.retried,
                "failure_reasons": ramp.failureReasons, "ramp_s": round3(rampSeconds),
                "server_rss_before_kib": rss0, "server_rss_after_kib": rss1, "kib_per_idle_connection": round3(kib),
                "still_open": alive, "pings_sent": pingsSent, "pings_ok": pingOKCount,
                "server_close_codes": stringKeys(closeCodes), "dropped_without_close": dropped,
                "loadavg_1m_before": round3(load0), "loadavg_1m_after": round3(loadAverage1m()),
            ] as [String: Any],
        ]
        try emitJSON(json, to: common.jsonOut)
    }
}

final class PingCounter: @unchecked Sendable {
    var ok = 0
    var bad = 0
}

// MARK: - broadcast

struct Broadcast: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "S subscribers on one channel, one publisher at a fixed rate: throughput, loss, latency, server CPU.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Subscriber connections.")
    var subscribers: Int = 5000

    @Option(help: "Publications per second.")
    var rate: Double = 20

    @Option(help: "Measured window in seconds (after the warmup).")
    var duration: Double = 30

    @Option(help: "Seconds of publishing before the measured window starts.")
    var warmup: Double = 5

    @Option(help: "Seconds to wait after the last publication before counting missing deliveries.")
    var drain: Double = 2

    @Option(help: "Approximate size in bytes of each pushed frame (header included).")
    var payloadBytes: Int = 240

    @Option(help: "Channel to publish on.")
    var channel: String = "app.bench"

    @Option(help: "Publisher transport: ws (publish op on its own WebSocket) or http (POST --http-path).")
    var publisher: String = "ws"

    @Option(help: "Path of the HTTP publish endpoint (for --publisher http).")
    var httpPath: String = "/api/v1/publish"

    @Option(help: "Give up ramping after this many seconds.")
    var rampTimeout: Double = 120

    @Option(name: .customLong("subscriber-url"), help: "More servers (replicas) for the subscribers, repeatable: subscribers are spread evenly over --url and these; the publisher stays on --url.")
    var subscriberURLs: [String] = []

    @Option(name: .customLong("extra-pid"), help: "Other processes whose CPU use in the window is reported (replicas, redis-server), repeatable.")
    var extraPids: [Int32] = []

    @Option(help: "Subscriber client: nio (SwiftNIO pipelines) or epoll (bare sockets, a fraction of the CPU per frame).")
    var engine: String = "nio"

    @Option(help: "epoll engine: 0 sleeps in epoll_wait (woken by every first frame); N > 0 polls the sockets every N µs, so a frame does not cost the sending server a wake-up of this process (adds at most N µs to a latency).")
    var pollInterval: UInt32 = 0

    func validate() throws {
        guard publisher == "ws" || publisher == "http" else { throw ValidationError("--publisher must be ws or http") }
        guard engine == "nio" || engine == "epoll" else { throw ValidationError("--engine must be nio or epoll") }
        guard rate > 0, duration > 0, warmup >= 0, subscribers > 0 else { throw ValidationError("bad rate/duration") }
        guard rate * (warmup + duration) <= 10_000_000 else { throw ValidationError("too many publications") }
    }

    func run() throws {
        let (soft, _) = raiseFileLimit()
        if soft < UInt64(subscribers + 64) {
            log("warning: RLIMIT_NOFILE is \(soft), below \(subscribers + 64): raise `ulimit -n`")
        }
        let target = try common.target()
        let pid = common.serverPid
        guard let rss0 = processRSSKiB(pid: pid) else { throw LoadError("cannot read /proc/\(pid)/status") }
        let load0 = checkLoad()
        let totalPubs = Int((rate * (warmup + duration)).rounded())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, common.threads))
        defer { try? group.syncShutdownGracefully() }
        let pubGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? pubGroup.syncShutdownGracefully() }
        let states = engine == "nio" ? group.makeIterator().map { LoopState(loop: $0) } : []
        let workers = engine == "epoll" ? (0..<max(1, common.threads)).map { _ in EpollWorker(channel: channel, expectedSeqs: totalPubs, pollMicros: pollInterval) } : []
        for worker in workers { worker.start() }
        let pubLoop = pubGroup.next()
        boostCurrentThreadIfRealtime()  // window measurements (this thread)
        try pubLoop.submit { boostCurrentThreadIfRealtime() }.wait()  // publisher timer

        // 1. subscribers
        log("broadcast: opening \(subscribers) subscribers on \(channel) (\(common.rampPerSec)/s)")
        let t0 = monoNanos()
        let spec = ConnectSpec(target: target, subscribeChannel: channel, trackPushes: true, expectedSeqs: totalPubs)
        let otherSpecs = try subscriberURLs.map { url in
            var other = spec
            other.target = try Target(url: url, token: common.token, authInHeader: common.auth == "header")
            return other
        }
        let ramp = engine == "epoll"
            ? rampOpenEpoll(
                count: subscribers, perSec: common.rampPerSec, timeoutSeconds: rampTimeout, workers: workers,
                targets: ([spec] + otherSpecs).map(\.target), progressLabel: "subscribers")
            : rampOpen(
                count: subscribers, perSec: common.rampPerSec, maxInFlight: common.maxInFlight,
                timeoutSeconds: rampTimeout, states: states, spec: spec, progressLabel: "subscribers", otherSpecs: otherSpecs)
        let rampSeconds = Double(monoNanos() - t0) / 1e9
        log("broadcast: \(ramp.ok) subscribed, \(ramp.failed) failed in \(String(format: "%.1f", rampSeconds)) s")
        guard ramp.ok > 0 else { throw LoadError("no subscriber could connect: \(ramp.failureReasons)") }
        let rssSubscribed = processRSSKiB(pid: pid) ?? 0

        // 2. publisher
        let transport: PublishTransport
        if publisher == "ws" {
            let pubState = LoopState(loop: pubLoop)
            let p = pubLoop.makePromise(of: Conn.self)
            pubLoop.execute {
                openConnection(
                    ConnectSpec(target: target, subscribeChannel: nil, trackPushes: false, expectedSeqs: 0), st: pubState
                ) { r, _ in
                    switch r {
                    case .success(let c): p.succeed(c)
                    case .failure(let e): p.fail(e)
                    }
                }
            }
            transport = WSPublishTransport(conn: try p.futureResult.wait())
        } else {
            transport = try HTTPPublishTransport.connect(target: target, path: httpPath, loop: pubLoop).wait()
        }

        // 3. window, on the same monotonic clock as the publisher's ts
        let startNs = monoNanos() + 300_000_000
        let windowStart = startNs + UInt64(warmup * 1e9)
        let windowEnd = windowStart + UInt64(duration * 1e9)
        for st in states {
            try st.loop.submit {
                st.windowStart = windowStart
                st.windowEnd = windowEnd
            }.wait()
        }
        for worker in workers {
            worker.lock.withLock {
                worker.windowStart = windowStart
                worker.windowEnd = windowEnd
            }
        }
        let pad = String(repeating: "x", count: padLength(payloadBytes: payloadBytes, channel: channel, totalPubs: totalPubs))
        let pub = PacedPublisher(
            loop: pubLoop, transport: transport, channel: channel, total: totalPubs, rate: rate, startNs: startNs,
            pad: pad)
        log("broadcast: publishing \(totalPubs) × \(rate)/s (warmup \(warmup) s, window \(duration) s)")
        pub.start()

        // 4. measure the window
        sleepUntil(windowStart)
        let srvCPU0 = processCPUMicros(pid: pid) ?? .nan
        let extraCPU0 = extraPids.map { processCPUMicros(pid: "\($0)") ?? .nan }
        let sched0 = processSchedNanos(pid: pid) ?? (.nan, .nan)
        let selfCPU0 = processCPUSplitMicros(pid: "self") ?? (.nan, .nan)
        let w0 = monoNanos()
        sleepUntil(windowEnd)
        let srvCPU1 = processCPUMicros(pid: pid) ?? .nan
        let extraCPU1 = extraPids.map { processCPUMicros(pid: "\($0)") ?? .nan }
        let sched1 = processSchedNanos(pid: pid) ?? (.nan, .nan)
        let selfCPU1 = processCPUSplitMicros(pid: "self") ?? (.nan, .nan)
        let loadWindow = loadAverage1m()
        let w1 = monoNanos()
        let rssWindow = processRSSKiB(pid: pid) ?? 0
        let windowSeconds = Double(w1 - w0) / 1e9

        try pub.done.futureResult.wait()
        log("broadcast: last publication sent; draining \(drain) s")
        sleepSeconds(drain)

        // 5. collect
        let pubStats = try pubLoop.submit { pub.stats }.wait()
        let (sent, acked, pubErrors, sendTimes) = try pubLoop.submit {
            (pubStats.sent, pubStats.acked, pubStats.errors, pubStats.sendTimes)
        }.wait()
        let windowSeqs = sendTimes.indices.filter { sendTimes[$0] >= windowStart && sendTimes[$0] < windowEnd }

        var hist = Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var pushesInWindow: UInt64 = 0
        var windowSeqDeliveries: UInt64 = 0
        var dups: UInt64 = 0
        var unparsable: UInt64 = 0
        var missing = 0
        var subscribersMissingSome = 0
        var dropped = 0
        var subscribedConns = 0
        for st in states {
            let r = try st.loop.submit { () -> (Histogram<UInt64>, UInt64, UInt64, UInt64, UInt64, Int, Int, Int, Int) in
                var miss = 0
                var incomplete = 0
                for c in st.conns {
                    var m = 0
                    for s in windowSeqs where !c.hasSeq(s) { m += 1 }
                    miss += m
                    if m > 0 { incomplete += 1 }
                }
                return (
                    st.hist, st.pushesInWindow, st.windowSeqDeliveries, st.duplicates, st.unparsable, miss, incomplete,
                    st.droppedWithoutClose, st.conns.count
                )
            }.wait()
            hist.add(r.0)
            pushesInWindow += r.1
            windowSeqDeliveries += r.2
            dups += r.3
            unparsable += r.4
            missing += r.5
            subscribersMissingSome += r.6
            dropped += r.7
            subscribedConns += r.8
        }
        var closeCodes = mergeCloseCodes(states)
        for worker in workers {
            worker.lock.withLock {
                hist.add(worker.hist)
                pushesInWindow += worker.pushesInWindow
                windowSeqDeliveries += worker.windowSeqDeliveries
                dups += worker.duplicates
                unparsable += worker.unparsable
                for subscriber in worker.ready {
                    var m = 0
                    for s in windowSeqs where !subscriber.hasSeq(s) { m += 1 }
                    missing += m
                    if m > 0 { subscribersMissingSome += 1 }
                }
                dropped += worker.droppedWithoutClose
                subscribedConns += worker.ready.count
                closeCodes.merge(worker.serverCloseCodes, uniquingKeysWith: +)
            }
        }
        try pubLoop.submit { transport.close() }.wait()
        closeAll(states)
        for worker in workers {
            worker.closeAll()
            worker.stop()
        }

        let expected = subscribedConns * windowSeqs.count
        let deliveredPerSec = Double(pushesInWindow) / windowSeconds
        let expectedPerSec = Double(subscribedConns) * rate
        let srvCPU = srvCPU1 - srvCPU0
        let usPerDelivery = pushesInWindow > 0 ? srvCPU / Double(pushesInWindow) : .nan
        let serverCPUPct = srvCPU / (windowSeconds * 1e6) * 100
        // share of the window the server's threads were runnable but not running (someone else had the core)
        let serverRunqWaitPct = (sched1.wait - sched0.wait) / (windowSeconds * 1e9) * 100
        let clientUserPct = (selfCPU1.user - selfCPU0.user) / (windowSeconds * 1e6) * 100
        let clientSysPct = (selfCPU1.sys - selfCPU0.sys) / (windowSeconds * 1e6) * 100
        let clientCPUPct = clientUserPct + clientSysPct
        let clientUsPerMsg = pushesInWindow > 0
            ? (selfCPU1.user + selfCPU1.sys - selfCPU0.user - selfCPU0.sys) / Double(pushesInWindow) : .nan
        func ms(_ p: Double) -> Double { hist.totalCount > 0 ? Double(hist.valueAtPercentile(p)) / 1000 : .nan }
        let p50 = ms(50), p99 = ms(99), p999 = ms(99.9)
        let maxMs = hist.totalCount > 0 ? Double(hist.max) / 1000 : .nan
        let missingPct = expected > 0 ? Double(missing) / Double(expected) * 100 : 0

        var rows: [(String, String)] = [
            ("server", common.label),
            ("subscribers requested", "\(subscribers)"),
            ("subscribers connected", "\(subscribedConns)"),
            ("connect failures", "\(ramp.failed)" + (ramp.failureReasons.isEmpty ? "" : " \(ramp.failureReasons)")),
            ("publisher", "\(publisher), \(rate)/s, frame ≈ \(payloadBytes) B"),
            ("publications sent / acked", "\(sent) / \(acked)" + (pubErrors.isEmpty ? "" : " errors \(pubErrors)")),
            ("publications in window", "\(windowSeqs.count) in \(String(format: "%.2f", windowSeconds)) s"),
            ("expected deliveries/s", String(format: "%.0f", expectedPerSec)),
            ("delivered/s (in window)", String(format: "%.0f", deliveredPerSec)),
            ("expected deliveries", "\(expected)"),
            ("delivered (window pubs)", "\(windowSeqDeliveries)"),
            ("missing", "\(missing) (\(String(format: "%.3f", missingPct)) %), \(subscribersMissingSome) subscribers short"),
            ("duplicates", "\(dups)"),
            ("latency p50 / p99 / p99.9", String(format: "%.2f / %.2f / %.2f ms", p50, p99, p999)),
            ("latency max", String(format: "%.2f ms", maxMs)),
            ("server CPU", String(format: "%.1f %% of a core", serverCPUPct)),
            ("server run-queue wait", String(format: "%.1f %% of the window (runnable, no CPU)", serverRunqWaitPct)),
            ("server µs per delivery", String(format: "%.2f", usPerDelivery)),
            ("server RSS", "\(rss0) KiB idle → \(rssSubscribed) subscribed → \(rssWindow) end of window"),
            ("client CPU", String(format: "%.1f %% of a core (user %.1f, sys %.1f), %.2f µs per message", clientCPUPct, clientUserPct, clientSysPct, clientUsPerMsg)),
            ("load average 1m", String(format: "%.2f before, %.2f end of window", load0, loadWindow)),
            ("server closes", closeCodes.isEmpty ? "0" : "\(closeCodes)"),
            ("dropped without close", "\(dropped)"),
            ("unparsable frames", "\(unparsable)"),
        ]
        for index in extraPids.indices {
            rows.append(("CPU of pid \(extraPids[index])", String(format: "%.1f %% of a core", (extraCPU1[index] - extraCPU0[index]) / (windowSeconds * 1e6) * 100)))
        }
        printTable(title: "nebula-load broadcast", rows)
        let json: [String: Any] = [
            "scenario": "broadcast",
            "timestamp": isoNow(),
            "label": common.label,
            "params": [
                "url": common.url, "subscribers": subscribers, "rate": rate, "duration_s": duration,
                "warmup_s": warmup, "drain_s": drain, "payload_bytes": payloadBytes, "channel": channel,
                "publisher": publisher, "ramp_per_sec": common.rampPerSec, "threads": common.threads, "engine": engine, "poll_interval_us": pollInterval,
                "server_pid": pid, "subscriber_urls": subscriberURLs,
            ] as [String: Any],
            "extra_cpu_pct": Dictionary(uniqueKeysWithValues: extraPids.indices.map { index in
                ("\(extraPids[index])", round3((extraCPU1[index] - extraCPU0[index]) / (windowSeconds * 1e6) * 100))
            }),
            "results": [
                "subscribers_connected": subscribedConns, "connect_failures": ramp.failed,
                "failure_reasons": ramp.failureReasons, "ramp_s": round3(rampSeconds),
                "publications_sent": sent, "publications_acked": acked, "publish_errors": pubErrors,
                "publications_in_window": windowSeqs.count, "window_s": round3(windowSeconds),
                "expected_deliveries_per_s": round3(expectedPerSec), "delivered_per_s": round3(deliveredPerSec),
                "expected_deliveries": expected, "delivered_window_publications": windowSeqDeliveries,
                "missing": missing, "missing_pct": round3(missingPct), "subscribers_missing_some": subscribersMissingSome,
                "duplicates": dups,
                "latency_ms": [
                    "p50": round3(p50), "p99": round3(p99), "p99_9": round3(p999), "max": round3(maxMs),
                    "count": hist.totalCount,
                ] as [String: Any],
                "server_cpu_pct": round3(serverCPUPct), "server_runqueue_wait_pct": round3(serverRunqWaitPct), "server_us_per_delivery": round3(usPerDelivery),
                "server_rss_idle_kib": rss0, "server_rss_subscribed_kib": rssSubscribed,
                "server_rss_window_end_kib": rssWindow, "client_cpu_pct": round3(clientCPUPct),
                "server_close_codes": stringKeys(closeCodes), "dropped_without_close": dropped,
                "unparsable_frames": unparsable, "client_user_pct": round3(clientUserPct),
                "client_sys_pct": round3(clientSysPct), "client_us_per_message": round3(clientUsPerMsg),
                "loadavg_1m_before": round3(load0), "loadavg_1m_window_end": round3(loadWindow),
            ] as [String: Any],
        ]
        try emitJSON(json, to: common.jsonOut)
    }
}

// MARK: - helpers

func mergeCloseCodes(_ states: [LoopState]) -> [Int: Int] {
    var out: [Int: Int] = [:]
    for st in states {
        let c = try! st.loop.submit { st.serverCloseCodes }.wait()
        out.merge(c, uniquingKeysWith: +)
    }
    return out
}

/// Closes every connection (close frame 1000 + TCP close) and waits until they are gone (bounded).
func closeAll(_ states: [LoopState]) {
    for st in states {
        try? st.loop.submit { for c in st.conns { c.closeNow() } }.wait()
    }
    let deadline = monoNanos() + 10_000_000_000
    while monoNanos() < deadline {
        let open = states.map { st in (try? st.loop.submit { st.conns.filter { !$0.gone }.count }.wait()) ?? 0 }
            .reduce(0, +)
        if open == 0 { break }
        sleepSeconds(0.05)
    }
}

func printTable(title: String, _ rows: [(String, String)]) {
    let w = rows.map { $0.0.count }.max() ?? 0
    print(title)
    print(String(repeating: "-", count: w + 40))
    for (k, v) in rows {
        print(k.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + v)
    }
    print(String(repeating: "-", count: w + 40))
}

func round3(_ x: Double) -> Any {
    if x.isNaN || x.isInfinite { return NSNull() }
    return (x * 1000).rounded() / 1000
}

func stringKeys(_ d: [Int: Int]) -> [String: Int] {
    Dictionary(uniqueKeysWithValues: d.map { (String($0.key), $0.value) })
}

func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date())
}

func emitJSON(_ obj: [String: Any], to path: String?) throws {
    let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    let line = String(decoding: data, as: UTF8.self)
    print(line)
    fflush(stdout)
    if let path {
        let url = URL(fileURLWithPath: path)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: nil)
        }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data((line + "\n").utf8))
    }
}

/// Warns when the machine is busy with other work: results would then measure contention, not the server.
func checkLoad() -> Double {
    let l = loadAverage1m()
    let cpus = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    if l > cpus * 0.75 {
        log("warning: load average \(l) on \(Int(cpus)) CPUs: other work is running, results will be disturbed")
    }
    return l
}
