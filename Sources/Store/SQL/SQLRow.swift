/// One result row, columns by name.
public struct SQLRow: Sendable {
    public let columns: [String: SQLValue]

    public init(columns: [String: SQLValue]) {
        self.columns = columns
    }

    public subscript(_ name: String) -> SQLValue {
        columns[name] ?? .null
    }

    public func int(_ name: String) throws(StoreError) -> Int64 {
        guard let value = self[name].int64 else { throw .decoding(column: name, expected: "integer", found: "\(self[name])") }
        return value
    }

    public func string(_ name: String) throws(StoreError) -> String {
        guard let value = self[name].string else { throw .decoding(column: name, expected: "text", found: "\(self[name])") }
        return value
    }

    public func optionalString(_ name: String) -> String? { self[name].string }
    public func optionalInt(_ name: String) -> Int64? { self[name].int64 }

    public func bool(_ name: String) throws(StoreError) -> Bool {
        try int(name) != 0
    }
}
