import Foundation

/// Times on the HTTP API: RFC 3339 in UTC, from the store's Unix milliseconds and back.
enum Timestamp {
    static func rfc3339(_ milliseconds: Int64, fractional: Bool = false) -> String {
        let formatter = ISO8601DateFormatter()
        if fractional { formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds] }
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// Unix milliseconds of an RFC 3339 time, with or without fractional seconds.
    static func milliseconds(rfc3339 text: String) -> Int64? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: text) ?? fractional.date(from: text) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}
