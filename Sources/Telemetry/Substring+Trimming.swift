extension Substring {
    /// The text without leading or trailing whitespace.
    var trimmingSpaces: Substring {
        guard let start = firstIndex(where: { !$0.isWhitespace }),
              let end = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return self[start...end]
    }
}
