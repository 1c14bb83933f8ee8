import DequeModule

/// One channel's stream state: epoch, newest offset and the retained publications.
struct ChannelHistory {
    let epoch: String
    private(set) var offset: UInt64 = 0
    private(set) var publications = Deque<Publication>()
    private(set) var lastPublishedAt: ContinuousClock.Instant?

    init(epoch: String) {
        self.epoch = epoch
    }

    var position: StreamPosition { StreamPosition(epoch: epoch, offset: offset) }

    mutating func append(data: [UInt8], channel: String, policy: ChannelPolicy, now: ContinuousClock.Instant) -> Publication {
        offset += 1
        let publication = Publication(
            channel: channel,
            position: StreamPosition(epoch: epoch, offset: offset),
            data: data,
            delivery: policy.delivery,
            publishedAt: now
        )
        publications.append(publication)
        lastPublishedAt = now
        while publications.count > policy.historySize { publications.removeFirst() }
        expire(policy: policy, now: now)
        return publication
    }

    mutating func expire(policy: ChannelPolicy, now: ContinuousClock.Instant) {
        guard let ttl = policy.historyTTL else { return }
        while let first = publications.first, now - first.publishedAt > ttl { publications.removeFirst() }
    }

    /// Everything after `since`, or `recovered: false` when part of it is gone.
    func recover(since: StreamPosition) -> Recovery {
        guard since.epoch == epoch, since.offset <= offset else {
            return Recovery(position: position, publications: [], recovered: false)
        }
        if since.offset == offset {
            return Recovery(position: position, publications: [], recovered: true)
        }
        guard let oldest = publications.first, oldest.offset <= since.offset + 1 else {
            return Recovery(position: position, publications: [], recovered: false)
        }
        let missed = publications.filter { $0.offset > since.offset }
        return Recovery(position: position, publications: Array(missed), recovered: true)
    }

    func newest(_ limit: Int) -> [Publication] {
        Array(publications.suffix(limit))
    }
}
