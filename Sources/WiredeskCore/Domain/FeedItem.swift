import Foundation

/// What the feed tells downstream of a change: the story as ninjs 3.1, as agencies send it to
/// receiving desks. A publish is the item, `usable`. A correction is the item at its new version,
/// `usable`, with the correction note in `edNote` ("Correction: …"): receivers replace the earlier
/// version and may show the note. A kill is `canceled`, with the kill notice in `edNote` and no
/// text: receivers take the story down. Once a story is killed, every earlier entry of it is
/// served as a tombstone of that shape, so nobody who reads the feed later receives killed copy.
public enum FeedItem {
    public enum Kind: String, Sendable, CaseIterable {
        case publish, correct, kill

        /// The entry a transition writes, if any.
        public init?(_ transition: String) {
            self.init(rawValue: transition)
        }
    }

    /// The item as stored with its entry; `versionCreated` is the entry's time, added when read.
    static func stored(_ story: Story, version: Int, kind: Kind) -> JSONValue {
        var story = story
        story.version = version
        switch kind {
        case .publish, .correct:
            guard case .object(var item) = Ninjs.export(story, as: .v3) else { return .object([:]) }
            item["versionCreated"] = nil
            item["pubStatus"] = .string("usable")
            if kind == .correct, let note = story.corrections.last?.note {
                item["edNote"] = .string("Correction: \(note)")
            }
            return .object(item)
        case .kill:
            return tombstone(id: story.id, version: version, firstCreated: story.createdAt, notice: story.killNotice ?? "")
        }
    }

    /// A killed story's entry: who it was, which version, and the notice, without its text.
    static func tombstone(id: UUID, version: Int, firstCreated: Date, notice: String) -> JSONValue {
        .object([
            "uri": .string("urn:wiredesk:story:\(id.uuidString.lowercased())"),
            "type": .string("text"),
            "version": .string(String(version)),
            "firstCreated": .string(JSONCoding.formatDate(firstCreated)),
            "pubStatus": .string("canceled"),
            "edNote": .string("Kill: \(notice) Do not use; remove this story from your systems."),
            "standard": .object(["name": .string("ninjs"), "version": .string("3.1")]),
        ])
    }
}
