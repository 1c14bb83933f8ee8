/// What an API key may do (issue 3): `read`, `publish:<family>`, `containers`, `jobs`, `admin`.
public enum APIScope: Sendable, Hashable, CustomStringConvertible {
    case read
    /// Publish to the channels of one family, named by its first segment (`publish:app`).
    case publish(family: String)
    case containers
    case jobs
    case admin

    public init?(_ text: String) {
        switch text {
        case "read": self = .read
        case "containers": self = .containers
        case "jobs": self = .jobs
        case "admin": self = .admin
        default:
            guard text.hasPrefix("publish:") else { return nil }
            let family = String(text.dropFirst("publish:".count))
            guard !family.isEmpty, family.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }) else { return nil }
            self = .publish(family: family)
        }
    }

    public var description: String {
        switch self {
        case .read: "read"
        case .publish(let family): "publish:\(family)"
        case .containers: "containers"
        case .jobs: "jobs"
        case .admin: "admin"
        }
    }

    /// Parses a list, naming the first scope that is not one.
    public static func parse(_ texts: [String]) -> Result<[APIScope], ScopeError> {
        var scopes: [APIScope] = []
        for text in texts {
            guard let scope = APIScope(text) else { return .failure(ScopeError(scope: text)) }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return .success(scopes)
    }

    public struct ScopeError: Error, Sendable, Equatable, CustomStringConvertible {
        public let scope: String
        public var description: String {
            "unknown scope '\(scope)': use read, publish:<family>, containers, jobs or admin"
        }
    }
}
