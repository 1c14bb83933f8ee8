/// Cumulative CPU time counters (in USER_HZ ticks) for one `cpu` line of /proc/stat.
struct CPUTimes: Sendable, Equatable {
    /// Time in user mode, including guest time.
    var user: UInt64
    /// Time in user mode at low priority, including niced guest time.
    var nice: UInt64
    /// Time in kernel mode.
    var system: UInt64
    /// Time idle.
    var idle: UInt64
    /// Time idle while I/O was outstanding.
    var iowait: UInt64
    /// Time servicing hardware interrupts.
    var irq: UInt64
    /// Time servicing soft interrupts.
    var softirq: UInt64
    /// Time taken by the hypervisor for other guests.
    var steal: UInt64

    /// Creates counters; fields absent on older kernels default to zero.
    init(
        user: UInt64, nice: UInt64, system: UInt64, idle: UInt64,
        iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0
    ) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
    }

    /// No time recorded; the baseline for a core seen for the first time.
    static let zero = CPUTimes(user: 0, nice: 0, system: 0, idle: 0)

    /// All ticks accounted for. Guest time is deliberately not added: the
    /// kernel already includes it in `user` and `nice`.
    var total: UInt64 {
        user + nice + system + idle + iowait + irq + softirq + steal
    }

    /// Ticks spent doing work. Waiting for I/O counts as idle because the CPU
    /// itself was free to run something else.
    var busy: UInt64 {
        total - idle - iowait
    }

    /// Busy share of the ticks elapsed since `earlier`, as a percentage rounded to 2 decimals.
    ///
    /// Returns 0 when no ticks elapsed. Each difference saturates at zero because
    /// the kernel's iowait counter is known to step backwards on idle CPUs.
    func busyPercent(since earlier: CPUTimes) -> Double {
        let elapsed = total.subtractingClamped(earlier.total)
        guard elapsed > 0 else { return 0 }
        let worked = busy.subtractingClamped(earlier.busy)
        return Percent.of(worked, in: elapsed)
    }
}
