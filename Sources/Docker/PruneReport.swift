/// What a prune call (`/build/prune`, `/images/prune`) reports.
struct PruneReport: Decodable, Sendable {
    let spaceReclaimed: Int64
    /// Entries of `ImagesDeleted` that say an image was deleted (the others only untag one).
    let imagesDeleted: Int

    enum CodingKeys: String, CodingKey { case spaceReclaimed = "SpaceReclaimed", imagesDeleted = "ImagesDeleted" }
    private struct Deletion: Decodable {
        let deleted: String?
        enum CodingKeys: String, CodingKey { case deleted = "Deleted" }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spaceReclaimed = try c.decodeIfPresent(Int64.self, forKey: .spaceReclaimed) ?? 0
        imagesDeleted = (try c.decodeIfPresent([Deletion].self, forKey: .imagesDeleted) ?? []).filter { $0.deleted != nil }.count
    }
}
