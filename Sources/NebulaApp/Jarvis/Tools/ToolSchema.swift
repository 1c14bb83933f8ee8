import Realtime

/// Small builders for the JSON Schemas tools describe their arguments with.
enum ToolSchema {
    static func object(_ properties: [(String, JSONValue)], required: [String] = []) -> JSONValue {
        .object([
            ("type", .string("object")),
            ("properties", .object(properties.map { (key: $0.0, value: $0.1) })),
            ("required", .array(required.map(JSONValue.string))),
        ])
    }

    static func string(_ description: String) -> JSONValue {
        .object([("type", .string("string")), ("description", .string(description))])
    }

    static func integer(_ description: String, minimum: Int, maximum: Int) -> JSONValue {
        .object([
            ("type", .string("integer")), ("description", .string(description)),
            ("minimum", .number(String(minimum))), ("maximum", .number(String(maximum))),
        ])
    }
}

extension JSONValue {
    static func number(_ value: Double, places: Int = 1) -> JSONValue {
        guard value.isFinite else { return .null }
        let scale = [1.0, 10, 100, 1000][min(places, 3)]
        return .number(String((value * scale).rounded() / scale))
    }

    static func number<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    static func optional<T: BinaryInteger>(_ value: T?) -> JSONValue { value.map { .number(String($0)) } ?? .null }

    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}
