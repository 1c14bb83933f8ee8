/// The one place that says which channels exist and how each behaves.
public struct ChannelRegistry: Sendable {
    public static let maxNameLength = 128

    public private(set) var families: [ChannelFamily]
    /// Patterns reserved for capabilities still to come: named so nobody builds on them by accident.
    public private(set) var reserved: [ChannelFamily.Pattern]

    public init(families: [ChannelFamily], reserved: [ChannelFamily.Pattern]) {
        self.families = families
        self.reserved = reserved
    }

    /// Families of protocol v1 (docs/protocol.md, "Channels and families").
    public static let standard = ChannelRegistry(
        families: [
            ChannelFamily(
                .exact("telemetry.host"),
                ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)
            ),
            ChannelFamily(
                .prefix("app."),
                ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .seconds(600), subscribe: .read, publish: .publish)
            ),
            ChannelFamily(
                .exact("telemetry.containers"),
                ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)
            ),
            ChannelFamily(
                .prefix("telemetry.container."),
                ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)
            ),
            // Live container logs: followed only while someone listens; the newest lines stay for
            // later subscribers (`history`).
            ChannelFamily(
                .prefix("logs."),
                ChannelPolicy(delivery: .ordered, historySize: 200, historyTTL: .seconds(600), subscribe: .read, publish: .server)
            ),
            ChannelFamily(
                .exact("storage"),
                ChannelPolicy(delivery: .latest, historySize: 1, historyTTL: nil, subscribe: .read, publish: .server)
            ),
            ChannelFamily(
                .exact("alerts"),
                ChannelPolicy(delivery: .ordered, historySize: 200, historyTTL: nil, subscribe: .read, publish: .server)
            ),
            ChannelFamily(
                .exact("audit"),
                ChannelPolicy(delivery: .ordered, historySize: 100, historyTTL: .seconds(3600), subscribe: .admin, publish: .server)
            ),
        ],
        reserved: [
            .prefix("telemetry."), .prefix("jobs."), .prefix("jarvis."),
            .prefix("overlay."), .prefix("bots."),
        ]
    )

    /// Adds a family; later capabilities call this as they take over a reserved pattern.
    public mutating func register(_ family: ChannelFamily) {
        families.append(family)
        reserved.removeAll { $0 == family.pattern }
    }

    public func family(for name: String) throws(ProtocolError) -> ChannelFamily {
        guard Self.isValidName(name) else {
            throw ProtocolError(.unknownChannel, "invalid channel name: 1-\(Self.maxNameLength) characters of A-Z a-z 0-9 . _ - :")
        }
        let family = families.filter { $0.pattern.matches(name) }.max { $0.pattern.specificity < $1.pattern.specificity }
        let reservation = reserved.filter { $0.matches(name) }.max { $0.specificity < $1.specificity }
        if let family, (reservation.map { family.pattern.specificity >= $0.specificity } ?? true) {
            return family
        }
        if let reservation {
            throw ProtocolError(.unknownChannel, "channel '\(name)' is in '\(reservation)', reserved for a coming capability")
        }
        throw ProtocolError(.unknownChannel, "no channel family matches '\(name)'")
    }

    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= maxNameLength else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "-"), UInt8(ascii: ":"):
                true
            default: false
            }
        }
    }
}
