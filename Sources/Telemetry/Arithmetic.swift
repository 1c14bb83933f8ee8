extension UInt64 {
    /// `self - other`, or 0 when a counter went backwards (wrapped or was reset).
    func subtractingClamped(_ other: UInt64) -> UInt64 {
        self >= other ? self - other : 0
    }
}

extension Double {
    /// The value rounded half away from zero to `places` decimal digits.
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}

/// Percentage helpers shared by every figure in a snapshot.
enum Percent {
    /// `part / whole × 100`, clamped to 0...100 and rounded to 2 decimals; 0 when `whole` is 0.
    static func of(_ part: UInt64, in whole: UInt64) -> Double {
        guard whole > 0 else { return 0 }
        let ratio = Double(part) / Double(whole) * 100
        return min(max(ratio, 0), 100).rounded(toPlaces: 2)
    }
}
