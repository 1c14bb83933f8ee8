/// What an account may do. Ordered: each role can do everything the ones below it can.
public enum Role: String, Sendable, CaseIterable, Comparable {
    /// Sees everything, changes nothing.
    case viewer
    /// May act on containers and jobs.
    case `operator`
    /// May also manage users, keys and settings.
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    public func allows(_ required: Role) -> Bool { self >= required }
}
