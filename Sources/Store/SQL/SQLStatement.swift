/// A statement with its parameters kept apart from its text, written once for every backend:
///
///     let sql: SQLStatement = "SELECT id FROM users WHERE name = \(bind: name)"
///
/// Each backend renders the placeholders its own way (`?` for SQLite, `$1` for PostgreSQL), so a
/// value can never become SQL text.
public struct SQLStatement: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Fragment: Sendable {
        case text(String)
        case bind(SQLValue)
    }

    var fragments: [Fragment]

    public init(stringLiteral value: String) {
        fragments = [.text(value)]
    }

    public init(stringInterpolation: Interpolation) {
        fragments = stringInterpolation.fragments
    }

    public struct Interpolation: StringInterpolationProtocol {
        var fragments: [Fragment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            fragments.append(.text(literal))
        }

        public mutating func appendInterpolation(bind value: some SQLBindable) {
            fragments.append(.bind(value.sqlValue))
        }

        /// Trusted SQL text (identifiers, fragments built in code) — never user input.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            fragments.append(.text(text))
        }
    }

    /// Joins statements, keeping every bind a bind: for clauses that depend on input.
    public static func + (lhs: SQLStatement, rhs: SQLStatement) -> SQLStatement {
        var joined = lhs
        joined.fragments += rhs.fragments
        return joined
    }

    public var binds: [SQLValue] {
        fragments.compactMap { if case .bind(let value) = $0 { value } else { nil } }
    }

    /// The text with placeholders numbered by `placeholder(index)` (1-based).
    public func render(placeholder: (Int) -> String) -> String {
        var text = ""
        var index = 0
        for fragment in fragments {
            switch fragment {
            case .text(let literal): text += literal
            case .bind:
                index += 1
                text += placeholder(index)
            }
        }
        return text
    }

    /// For logs: the text with `?` placeholders, never the bound values (they may be secrets).
    public var description: String { render { _ in "?" } }
}
