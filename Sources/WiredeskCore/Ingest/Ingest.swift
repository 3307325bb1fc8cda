import Crypto
import Foundation
import Logging
import Metrics
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
        /// An older version of an agency item already in at a newer one: nothing changes.
        case superseded
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

    /// Reads one payload as `format` (or guesses: JSON is ninjs, anything else wire text). An item
    /// that cannot be read as its format is refused as unprocessable (422): the request that
    /// carried it was well-formed, the agency's copy is not.
    public static func parse(_ payload: Data, format: IngestFormat?) throws -> ParsedItem {
        let looksLikeJSON = payload.first(where: { !" \n\r\t".utf8.contains($0) }) == UInt8(ascii: "{")
        switch format ?? (looksLikeJSON ? .ninjs : .wireText) {
        case .ninjs:
            return try Ninjs.parse(payload)
        case .wireText:
            guard let text = String(validating: payload, as: UTF8.self) else {
                throw WiredeskError(.validation, "not UTF-8 text")
            }
            guard !payload.withUnsafeBytes({ $0.contains(0) }) else { throw WiredeskError(.validation, "binary data, not text") }
            let (copy, removed) = ControlCharacters.removed(from: text)
            var parsed = WireText.parse(copy)
            if removed > 0 { parsed.warnings.append(ControlCharacters.warning(removed)) }
            return parsed
        }
    }

    public func ingest(
        _ payload: Data, format: IngestFormat? = nil, mediaType: String? = nil, fileName: String? = nil,
        splitTeasers: Bool = false, feed: String? = nil, by principal: Principal, logger: Logger
    ) async throws -> IngestOutcome {
        try Workflow.checkIngest(by: principal)
        guard !payload.isEmpty else { throw WiredeskError.malformed(field: "", "the item is empty") }
        // Reading agency copy is CPU work on untrusted input: off the event loops.
        let parsed = try await Offload.run(.ingest) {
            // What reading hostile copy costs is watched (the fault suite holds it under 100 ms a
            // megabyte): parsing, validating, and refusing alike.
            let started = threadCPUNanoseconds()
            defer { Timer(label: "wiredesk_ingest_parse_cpu").recordNanoseconds(threadCPUNanoseconds() - started) }
            let parsed = try Self.parse(payload, format: format)
            try parsed.content.validate()
            var provenance = Validator()
            provenance.line(fileName, "fileName", max: Limits.fileName)
            provenance.line(parsed.agencyURI, "uri", max: Limits.uri)
            provenance.line(parsed.agencyVersion, "version", max: Limits.shortText)
            try provenance.finish()
            return parsed
        }
        let formatName = parsed.format
        let hash = Data(SHA256.hash(data: payload))
        let itemID = UUID.random()
        let media = mediaType ?? (formatName == "wire-text" ? "text/plain; charset=utf-8" : "application/json")
        let contentText = String(decoding: try JSONCoding.encode(parsed.content), as: UTF8.self)
        let warningsText = String(decoding: try JSONCoding.encode(parsed.warnings), as: UTF8.self)
        let stories = StoryStore(database: database)

        return try await database.transaction(logger: logger) { connection in
            // Importers of the same bytes (whatever format each forces) wait for each other, and so
            // do importers of the same agency item; the bytes are always locked first, so two
            // importers never wait on each other in a circle.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(hash.base64EncodedString()), 0))", logger: logger)
            if let uri = parsed.agencyURI {
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(uri), 1))", logger: logger)
            }
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
                        media_type, file_name, content, applied, warnings, received_by, feed)
                    VALUES (\(itemID), \(storyID), \(formatName), \(parsed.agencyURI), \(parsed.agencyVersion), \(hash),
                        \(payload), \(media), \(fileName), \(contentText)::jsonb, \(applied), \(warningsText)::jsonb,
                        \(principal.name), \(feed))
                    """,
                    logger: logger)
            }

            if let uri = parsed.agencyURI, let version = parsed.agencyVersion {
                // The same agency version in other bytes (re-serialised, re-sent): nothing new.
                let same = try await connection.query(
                    """
                    SELECT id, story_id, format FROM ingest_items WHERE agency_uri = \(uri) AND agency_version = \(version)
                    ORDER BY received_at, id LIMIT 1
                    """,
                    logger: logger)
                for try await (id, storyID, format) in same.decode((UUID, UUID, String).self) {
                    return IngestOutcome(
                        status: .duplicate, storyId: storyID, itemId: id, format: format, applied: false,
                        warnings: parsed.warnings, teaserStoryIds: [])
                }
            }
            if let uri = parsed.agencyURI,
                let earlier = try await Self.latest(agencyURI: uri, on: connection, logger: logger)
            {
                if Self.isOlder(parsed.agencyVersion, than: earlier.version) {
                    let warning =
                        "agency version \(parsed.agencyVersion ?? "") is older than version \(earlier.version ?? "") already in; nothing changed"
                    return IngestOutcome(
                        status: .superseded, storyId: earlier.storyID, itemId: earlier.itemID, format: earlier.format,
                        applied: false, warnings: parsed.warnings + [warning], teaserStoryIds: [])
                }
                let applied = try await stories.wireUpdate(
                    earlier.storyID, previous: earlier.content, incoming: parsed.content,
                    agencyVersion: parsed.agencyVersion, by: principal, on: connection, logger: logger)
                try await store(storyID: earlier.storyID, applied: applied)
                return IngestOutcome(
                    status: .updated, storyId: earlier.storyID, itemId: itemID, format: formatName, applied: applied,
                    warnings: parsed.warnings, teaserStoryIds: [])
            }

            let reason = "ingested \(formatName)" + (fileName.map { " from \($0)" } ?? "")
            let story = try await stories.ingested(
                parsed.content, reason: reason, by: principal, on: connection, logger: logger)
            try await store(storyID: story.id, applied: true)
            var teaserIDs: [UUID] = []
            if splitTeasers {
                for teaser in parsed.content.teasers {
                    let draft = StoryContent(
                        headline: teaser.headline, standfirst: teaser.standfirst, language: parsed.content.language)
                    let made = try await stories.ingested(
                        draft, reason: "teaser from the page of story \(story.id.uuidString.lowercased())",
                        by: principal, on: connection, logger: logger)
                    teaserIDs.append(made.id)
                }
            }
            return IngestOutcome(
                status: .created, storyId: story.id, itemId: itemID, format: formatName, applied: true,
                warnings: parsed.warnings, teaserStoryIds: teaserIDs)
        }
    }

    /// Agency versions are counters ("1", "2"…) in the feeds we know: when both are, the lower is
    /// older. Otherwise there is no order to go by, and the later arrival counts as newer.
    static func isOlder(_ version: String?, than other: String?) -> Bool {
        func counter(_ text: String?) -> Int64? {
            text.flatMap { ASCII.number($0.utf8, maxDigits: 18) }
        }
        guard let a = counter(version), let b = counter(other) else { return false }
        return a < b
    }

    /// The newest earlier item with this agency uri: the story it fed and what it said.
    private static func latest(
        agencyURI: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> (itemID: UUID, storyID: UUID, format: String, version: String?, content: StoryContent)? {
        let rows = try await connection.query(
            """
            SELECT id, story_id, format, agency_version, content::text FROM ingest_items WHERE agency_uri = \(agencyURI)
            ORDER BY received_at DESC, id DESC LIMIT 1
            """,
            logger: logger)
        for try await (id, storyID, format, version, content) in rows.decode((UUID, UUID, String, String?, String).self) {
            let decoded = try JSONCoding.decoder(stored: true).decode(StoryContent.self, from: Data(content.utf8))
            return (id, storyID, format, version, decoded)
        }
        return nil
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
