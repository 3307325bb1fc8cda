import Crypto
import Foundation
import Logging
import PostgresNIO

public enum IngestFormat: String, Codable, Sendable, CaseIterable {
    case wireText = "wire-text"
    case ninjs
}

/// What happened to one ingested item.
public struct IngestOutcome: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// A new draft.
        case created
        /// A newer version of an agency item already in: recorded on its story.
        case updated
        /// Seen before (the same bytes, or the same agency version): nothing new.
        case duplicate
    }

    public var status: Status
    public var storyId: UUID
    public var itemId: UUID
    /// `wire-text`, `ninjs-1`, `ninjs-2` or `ninjs-3`.
    public var format: String
    /// For an update: whether the agency's new text went into the story. It does not once an
    /// editor has touched the story; the update is then recorded beside it for the desk to read.
    public var applied: Bool
    public var warnings: [String]
    /// Drafts made from the page's other headlines (`--split-teasers`).
    public var teaserStoryIds: [UUID]
}

/// One stored agency item: where it came from and what was done with it.
public struct IngestItem: Codable, Equatable, Sendable {
    public var id: UUID
    public var storyId: UUID
    public var format: String
    public var agencyUri: String?
    public var agencyVersion: String?
    public var sha256: String
    public var mediaType: String
    public var fileName: String?
    public var applied: Bool
    public var warnings: [String]
    public var receivedAt: Date
    public var receivedBy: String
}

/// Takes agency copy in as drafts, keeping every payload byte for byte (`ingest_items`). One item
/// is one transaction: the story, its revision, its audit event (source `ingest`) and the stored
/// payload commit together or not at all.
public struct IngestService: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Reads one payload as `format` (or guesses: JSON is ninjs, anything else wire text).
    public static func parse(_ payload: Data, format: IngestFormat?) throws -> ParsedItem {
        let looksLikeJSON = payload.first(where: { !" \n\r\t".utf8.contains($0) }) == UInt8(ascii: "{")
        switch format ?? (looksLikeJSON ? .ninjs : .wireText) {
        case .ninjs:
            return try Ninjs.parse(payload)
        case .wireText:
            guard let text = String(validating: payload, as: UTF8.self) else {
                throw WiredeskError.malformed(field: "", "not UTF-8 text")
            }
            guard !text.contains("\u{0}") else { throw WiredeskError.malformed(field: "", "binary data, not text") }
            let (copy, removed) = ControlCharacters.removed(from: text)
            var parsed = WireText.parse(copy)
            if removed > 0 { parsed.warnings.append(ControlCharacters.warning(removed)) }
            return parsed
        }
    }

    public func ingest(
        _ payload: Data, format: IngestFormat? = nil, mediaType: String? = nil, fileName: String? = nil,
        splitTeasers: Bool = false, by principal: Principal, logger: Logger
    ) async throws -> IngestOutcome {
        try Workflow.checkCreate(by: principal)
        guard !payload.isEmpty else { throw WiredeskError.malformed(field: "", "the item is empty") }
        let parsed = try Self.parse(payload, format: format)
        let formatName = parsed.format
        try parsed.content.validate()
        var provenance = Validator()
        provenance.line(fileName, "fileName", max: Limits.fileName)
        provenance.line(parsed.agencyURI, "uri", max: Limits.uri)
        provenance.line(parsed.agencyVersion, "version", max: Limits.shortText)
        try provenance.finish()
        let hash = Data(SHA256.hash(data: payload))
        let itemID = UUID()
        let media = mediaType ?? (formatName == "wire-text" ? "text/plain; charset=utf-8" : "application/json")
        let contentText = String(decoding: try JSONCoding.encode(parsed.content), as: UTF8.self)
        let warningsText = String(decoding: try JSONCoding.encode(parsed.warnings), as: UTF8.self)
        let key = parsed.agencyURI ?? hash.base64EncodedString()

        return try await database.transaction(logger: logger) { connection in
            // Two importers on the same item wait for each other instead of both creating it.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger)
            let seen = try await connection.query(
                "SELECT id, story_id, format FROM ingest_items WHERE content_hash = \(hash)", logger: logger)
            for try await (id, storyID, format) in seen.decode((UUID, UUID, String).self) {
                return IngestOutcome(
                    status: .duplicate, storyId: storyID, itemId: id, format: format, applied: false,
                    warnings: parsed.warnings, teaserStoryIds: [])
            }

            func store(storyID: UUID, applied: Bool) async throws {
                try await connection.query(
                    """
                    INSERT INTO ingest_items (id, story_id, format, agency_uri, agency_version, content_hash, payload,
                        media_type, file_name, content, applied, warnings, received_by)
                    VALUES (\(itemID), \(storyID), \(formatName), \(parsed.agencyURI), \(parsed.agencyVersion), \(hash),
                        \(payload), \(media), \(fileName), \(contentText)::jsonb, \(applied), \(warningsText)::jsonb,
                        \(principal.name))
                    """,
                    logger: logger)
            }

            if let uri = parsed.agencyURI,
                let earlier = try await Self.latest(agencyURI: uri, on: connection, logger: logger)
            {
                let applied = try await Self.update(
                    earlier.storyID, previous: earlier.content, with: parsed.content, item: parsed,
                    by: principal, on: connection, logger: logger)
                try await store(storyID: earlier.storyID, applied: applied)
                return IngestOutcome(
                    status: .updated, storyId: earlier.storyID, itemId: itemID, format: formatName, applied: applied,
                    warnings: parsed.warnings, teaserStoryIds: [])
            }

            let storyID = UUID()
            let reason = "ingested \(formatName)" + (fileName.map { " from \($0)" } ?? "")
            try await connection.query(
                try StoryStore.insert(id: storyID, content: parsed.content, by: principal, reason: reason), logger: logger)
            try await store(storyID: storyID, applied: true)
            var teaserIDs: [UUID] = []
            if splitTeasers {
                for teaser in parsed.content.teasers {
                    let teaserID = UUID()
                    let draft = StoryContent(
                        headline: teaser.headline, standfirst: teaser.standfirst, language: parsed.content.language)
                    try await connection.query(
                        try StoryStore.insert(
                            id: teaserID, content: draft, by: principal,
                            reason: "teaser from the page of story \(storyID.uuidString.lowercased())"),
                        logger: logger)
                    teaserIDs.append(teaserID)
                }
            }
            return IngestOutcome(
                status: .created, storyId: storyID, itemId: itemID, format: formatName, applied: true,
                warnings: parsed.warnings, teaserStoryIds: teaserIDs)
        }
    }

    /// The story fed by the newest earlier version of an agency item, and what that version said.
    private static func latest(
        agencyURI: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> (storyID: UUID, content: StoryContent)? {
        let rows = try await connection.query(
            """
            SELECT story_id, content::text FROM ingest_items WHERE agency_uri = \(agencyURI)
            ORDER BY received_at DESC, id DESC LIMIT 1
            """,
            logger: logger)
        for try await (storyID, content) in rows.decode((UUID, String).self) {
            return (storyID, try JSONCoding.decoder(stored: true).decode(StoryContent.self, from: Data(content.utf8)))
        }
        return nil
    }

    /// Records a newer agency version on its story as a `wire-update` event whose diff is what the
    /// agency changed. The new text replaces the story's only while the story is still the
    /// agency's untouched draft; once an editor has changed it, the update is recorded and the
    /// editor's text stays. Returns whether the text was applied.
    private static func update(
        _ storyID: UUID, previous: StoryContent, with incoming: StoryContent, item: ParsedItem, by principal: Principal,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT \(unescaped: StoryStore.columns) FROM stories WHERE id = \(storyID) FOR UPDATE", logger: logger)
        var found: Story?
        for try await row in rows { found = try StoryStore.decode(row) }
        guard let current = found else { throw WiredeskError.storyNotFound(storyID) }
        let untouched = current.state == .draft && current.content == previous
        var proposed = current
        if untouched { proposed.content = incoming }
        let agencyDiff = FieldDiff.between(try JSONValue(encoding: previous), try JSONValue(encoding: incoming))
        let version = item.agencyVersion.map { " (agency version \($0))" } ?? ""
        let reason =
            untouched
            ? "agency update\(version) applied"
            : "agency update\(version) not applied: the story has been edited or moved on since the agency's last version"
        let update = try StoryStore.update(
            current, to: proposed, action: "wire-update", reason: reason, by: principal, diff: agencyDiff)
        let written = try await connection.query(update.query, logger: logger)
        var stored: [PostgresRow] = []
        for try await row in written { stored.append(row) }
        guard try update.stored(stored) != nil else {
            throw WiredeskError(.conflict, "the story changed while the agency update was recorded; import it again")
        }
        return untouched
    }

    // MARK: Provenance

    public func items(of storyID: UUID, logger: Logger) async throws -> [IngestItem] {
        let rows = try await database.rows(
            """
            SELECT id, story_id, format, agency_uri, agency_version, content_hash, media_type, file_name, applied,
                   warnings::text, received_at, received_by
            FROM ingest_items WHERE story_id = \(storyID) ORDER BY received_at, id
            """,
            logger: logger)
        return try rows.map { row in
            let (id, story, format, uri, version, hash, media, file, applied, warnings, at, by) = try row.decode(
                (UUID, UUID, String, String?, String?, Data, String, String?, Bool, String, Date, String).self)
            return IngestItem(
                id: id, storyId: story, format: format, agencyUri: uri, agencyVersion: version,
                sha256: hash.map { String(format: "%02x", $0) }.joined(), mediaType: media, fileName: file,
                applied: applied, warnings: try JSONCoding.decoder(stored: true).decode([String].self, from: Data(warnings.utf8)),
                receivedAt: at, receivedBy: by)
        }
    }

    /// The payload exactly as it arrived, with its media type.
    public func payload(_ itemID: UUID, logger: Logger) async throws -> (data: Data, mediaType: String) {
        let rows = try await database.rows(
            "SELECT payload, media_type FROM ingest_items WHERE id = \(itemID)", logger: logger)
        guard let (data, media) = try rows.first?.decode((Data, String).self) else {
            throw WiredeskError(.notFound, "no ingested item \(itemID.uuidString.lowercased())")
        }
        return (data, media)
    }
}
