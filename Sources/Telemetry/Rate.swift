/// Converts growth of a cumulative byte counter into a per-second rate.
enum Rate {
    /// Bytes per second rounded to 1 decimal; 0 for a wrapped/reset counter or an empty interval.
    static func perSecond(from old: UInt64, to new: UInt64, over elapsed: Duration) -> Double {
        let seconds = elapsed.seconds
        guard seconds > 0 else { return 0 }
        return (Double(new.subtractingClamped(old)) / seconds).rounded(toPlaces: 1)
    }
}

extension Duration {
    /// The duration as fractional seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
