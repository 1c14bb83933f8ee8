import NIOCore

/// A channel's local subscribers, grouped by event loop so one broadcast costs one task per loop,
/// not one per subscriber. The flat arrays are rebuilt only when membership changes.
struct SubscriberGroups {
    struct Group {
        let eventLoop: (any EventLoop)?
        var members: [UInt64: Session] = [:]
        var snapshot: [Session]?
    }

    private(set) var groups: [ObjectIdentifier?: Group] = [:]
    private(set) var count = 0

    mutating func insert(_ session: Session) {
        let key = session.eventLoop.map { ObjectIdentifier($0) }
        var group = groups[key] ?? Group(eventLoop: session.eventLoop)
        if group.members.updateValue(session, forKey: session.id) == nil { count += 1 }
        group.snapshot = nil
        groups[key] = group
    }

    mutating func remove(_ session: Session) {
        let key = session.eventLoop.map { ObjectIdentifier($0) }
        guard var group = groups[key], group.members.removeValue(forKey: session.id) != nil else { return }
        count -= 1
        group.snapshot = nil
        groups[key] = group.members.isEmpty ? nil : group
    }

    /// Per event loop, the sessions to deliver to; caches the arrays for the next broadcast.
    mutating func snapshots() -> [(eventLoop: (any EventLoop)?, sessions: [Session])] {
        var result: [(eventLoop: (any EventLoop)?, sessions: [Session])] = []
        result.reserveCapacity(groups.count)
        for key in groups.keys {
            if groups[key]!.snapshot == nil { groups[key]!.snapshot = Array(groups[key]!.members.values) }
            result.append((groups[key]!.eventLoop, groups[key]!.snapshot!))
        }
        return result
    }
}
