import Realtime

extension JSONWriter {
    /// A string, or `null`.
    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }
}
