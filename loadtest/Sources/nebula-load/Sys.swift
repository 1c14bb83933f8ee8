#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic clock in ns, shared by the whole process (publisher timestamps and receive times).
@inline(__always) func monoNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Sleeps until the monotonic clock reaches `deadline` (ns).
func sleepUntil(_ deadline: UInt64) {
    while true {
        let now = monoNanos()
        if now >= deadline { return }
        let d = deadline - now
        var req = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
        var rem = timespec()
        _ = nanosleep(&req, &rem)
    }
}

func sleepSeconds(_ s: Double) { sleepUntil(monoNanos() + UInt64(max(0, s) * 1e9)) }

/// Reads a (proc) file fully; /proc files report size 0 so read until EOF.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    if fd < 0 { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

let clockTicksPerSecond: Double = {
    let t = sysconf(Int32(_SC_CLK_TCK))
    return t > 0 ? Double(t) : 100
}()

/// utime + stime of a process in µs (fields 14 and 15 of /proc/PID/stat), nil if unreadable.
func processCPUMicros(pid: String) -> Double? {
    guard let s = readSmallFile("/proc/\(pid)/stat"), let close = s.lastIndex(of: ")") else { return nil }
    // After ") " the first field is field 3 (state); utime is field 14 -> index 11, stime 15 -> index 12.
    let rest = s[s.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    guard rest.count > 12, let u = Double(rest[11]), let st = Double(rest[12]) else { return nil }
    return (u + st) / clockTicksPerSecond * 1e6
}

/// VmRSS of a process in KiB, nil if unreadable.
func processRSSKiB(pid: String) -> Int? {
    guard let s = readSmallFile("/proc/\(pid)/status") else { return nil }
    for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2 { return Int(parts[1]) }
    }
    return nil
}

/// Raises RLIMIT_NOFILE soft limit to the hard limit. Returns (soft, hard) after the change.
@discardableResult
func raiseFileLimit() -> (UInt64, UInt64) {
    var rl = rlimit()
    #if os(Linux)
    let res = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let res = RLIMIT_NOFILE
    #endif
    if getrlimit(res, &rl) == 0 {
        if rl.rlim_cur < rl.rlim_max {
            rl.rlim_cur = rl.rlim_max
            _ = setrlimit(res, &rl)
            _ = getrlimit(res, &rl)
        }
        return (UInt64(rl.rlim_cur), UInt64(rl.rlim_max))
    }
    return (0, 0)
}

/// 1-minute load average, to flag runs disturbed by other work on the machine.
func loadAverage1m() -> Double {
    guard let s = readSmallFile("/proc/loadavg"), let f = s.split(separator: " ").first, let v = Double(f) else { return .nan }
    return v
}

/// utime and stime of a process in µs, separately.
func processCPUSplitMicros(pid: String) -> (user: Double, sys: Double)? {
    guard let s = readSmallFile("/proc/\(pid)/stat"), let close = s.lastIndex(of: ")") else { return nil }
    let rest = s[s.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    guard rest.count > 12, let u = Double(rest[11]), let st = Double(rest[12]) else { return nil }
    return (u / clockTicksPerSecond * 1e6, st / clockTicksPerSecond * 1e6)
}

/// Sum over a process's threads of (time on CPU, time runnable but waiting for a CPU) in ns, from
/// /proc/PID/task/*/schedstat. A high wait share means something else was using the server's core.
func processSchedNanos(pid: String) -> (run: Double, wait: Double)? {
    guard let dir = opendir("/proc/\(pid)/task") else { return nil }
    defer { closedir(dir) }
    var run = 0.0, wait = 0.0
    while let ent = readdir(dir) {
        let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name.hasPrefix(".") { continue }
        guard let s = readSmallFile("/proc/\(pid)/task/\(name)/schedstat") else { continue }
        let f = s.split(separator: " ")
        if f.count >= 2, let r = Double(f[0]), let w = Double(f[1]) {
            run += r
            wait += w
        }
    }
    return (run, wait)
}

/// When the tool runs under a real-time policy (run.sh uses `chrt -r`), lifts the calling thread one priority
/// above the event-loop threads, so the publisher's timer and the window measurements are never queued behind a
/// busy subscriber loop for a whole RR time slice. No-op under the normal scheduler.
func boostCurrentThreadIfRealtime() {
    var policy: Int32 = 0
    var param = sched_param()
    guard pthread_getschedparam(pthread_self(), &policy, &param) == 0 else { return }
    guard policy == SCHED_RR || policy == SCHED_FIFO else { return }
    let maxPrio = sched_get_priority_max(policy)
    if param.sched_priority < maxPrio {
        param.sched_priority += 1
        _ = pthread_setschedparam(pthread_self(), policy, &param)
    }
}
