import Crypto
import Foundation
import Logging
import Metrics
import PostgresNIO

public enum IngestFormat: String, Codable, Sendable, CaseIterable {
    case wireText = "wire-text"
    case ninjs
    /// IPTC NewsML-G2: a newsItem, a packageItem, or a newsMessage of several items.
    case newsmlG2 = "newsml-g2"
    /// IPTC NITF 3.x.
    case nitf

    /// JSON is ninjs; XML is NITF or NewsML-G2 by its root element (any other XML is refused);
    /// anything else is wire copy.
    public static func guess(_ payload: Data) throws -> IngestFormat {
        var bytes = payload[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        switch bytes.first(where: { !" \n\r\t".utf8.contains($0) }) {
        case UInt8(ascii: "{"):
            return .ninjs
        case UInt8(ascii: "<"):
            switch try XMLReader.rootName(of: payload) {
            case "nitf": return .nitf
            case "newsItem", "packageItem", "newsMessage": return .newsmlG2
            case let name:
                throw WiredeskError(
                    .validation,
                    "an XML document with root element <\(name ?? "")> is not a format Wiredesk reads "
                        + "(NITF <nitf>; NewsML-G2 <newsItem>, <packageItem> or <newsMessage>)")
            }
        default:
            return .wireText
        }
    }
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
    /// `wire-text`, `ninjs-1`, `ninjs-2`, `ninjs-3`, `nitf` or `newsml-g2`.
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

/// What one payload came to: an outcome per item, in the payload's order.
public struct IngestDelivery: Sendable {
    public var outcomes: [IngestOutcome]
    /// Whether the payload wrapped its items (a NewsML-G2 newsMessage), however many it held.
    public var isMessage: Bool
}

/// Takes agency copy in as drafts, keeping every payload byte for byte (`ingest_items`). One item
/// is one transaction: the story, its revision, its audit event (source `ingest`) and the stored
/// payload commit together or not at all.
public struct IngestService: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Reads one payload as `format` (or guesses: see `IngestFormat.guess`). An item that cannot
    /// be read as its format is refused as unprocessable (422): the request that carried it was
    /// well-formed, the agency's copy is not. A payload holding several items is refused here.
    public static func parse(_ payload: Data, format: IngestFormat?) throws -> ParsedItem {
        let items = try parseAll(payload, format: format)
        guard items.count == 1 else { throw several(items.count) }
        return items[0]
    }

    /// Every item in one payload: one, except for a NewsML-G2 newsMessage.
    public static func parseAll(_ payload: Data, format: IngestFormat?) throws -> [ParsedItem] {
        switch try format ?? IngestFormat.guess(payload) {
        case .ninjs:
            return [try Ninjs.parse(payload)]
        case .nitf:
            return [try NITF.parse(payload)]
        case .newsmlG2:
            return try NewsMLG2.parse(payload)
        case .wireText:
            guard let text = String(validating: payload, as: UTF8.self) else {
                throw WiredeskError(.validation, "not UTF-8 text")
            }
            guard !payload.withUnsafeBytes({ $0.contains(0) }) else { throw WiredeskError(.validation, "binary data, not text") }
            let (copy, removed) = ControlCharacters.removed(from: text)
            var parsed = WireText.parse(copy)
            if removed > 0 { parsed.warnings.append(ControlCharacters.warning(removed)) }
            return [parsed]
        }
    }

    private static func several(_ count: Int) -> WiredeskError {
        WiredeskError(.validation, "the payload holds \(count) items (a NewsML-G2 newsMessage): take it in with ingestAll")
    }

    /// Takes in a payload of one item: a new draft, or what the item is to one already in.
    /// A payload of several items (a newsMessage) is refused, with nothing written: see `ingestAll`.
    public func ingest(
        _ payload: Data, format: IngestFormat? = nil, mediaType: String? = nil, fileName: String? = nil,
        splitTeasers: Bool = false, feed: String? = nil, by principal: Principal, logger: Logger
    ) async throws -> IngestOutcome {
        let items = try await read(payload, format: format, fileName: fileName, by: principal)
        guard items.count == 1 else { throw Self.several(items.count) }
        return try await store(
            items[0], of: payload, mediaType: mediaType, fileName: fileName, splitTeasers: splitTeasers, feed: feed,
            by: principal, logger: logger)
    }

    /// Takes in every item of a payload (several for a NewsML-G2 newsMessage), in order, each
    /// in its own transaction by the rules of `ingest`. Every item is read and validated first:
    /// if any is refused, the payload is, and nothing is written.
    public func ingestAll(
        _ payload: Data, format: IngestFormat? = nil, mediaType: String? = nil, fileName: String? = nil,
        splitTeasers: Bool = false, feed: String? = nil, by principal: Principal, logger: Logger
    ) async throws -> [IngestOutcome] {
        try await deliver(
            payload, format: format, mediaType: mediaType, fileName: fileName, splitTeasers: splitTeasers, feed: feed,
            by: principal, logger: logger
        ).outcomes
    }

    /// What a payload came to: `ingestAll`'s outcomes, and whether the payload was a wrapper of
    /// items (a newsMessage), which the API answers as a list even when it held one item.
    public func deliver(
        _ payload: Data, format: IngestFormat? = nil, mediaType: String? = nil, fileName: String? = nil,
        splitTeasers: Bool = false, feed: String? = nil, by principal: Principal, logger: Logger
    ) async throws -> IngestDelivery {
        let items = try await read(payload, format: format, fileName: fileName, by: principal)
        var outcomes: [IngestOutcome] = []
        for item in items {
            outcomes.append(
                try await store(
                    item, of: payload, mediaType: mediaType, fileName: fileName, splitTeasers: splitTeasers,
                    feed: feed, by: principal, logger: logger))
        }
        return IngestDelivery(outcomes: outcomes, isMessage: items.contains { $0.byteRange != nil })
    }

    /// Every item of the payload, read and validated off the event loops.
    private func read(
        _ payload: Data, format: IngestFormat?, fileName: String?, by principal: Principal
    ) async throws -> [ParsedItem] {
        try Workflow.checkIngest(by: principal)
        guard !payload.isEmpty else { throw WiredeskError.malformed(field: "", "the item is empty") }
        // Reading agency copy is CPU work on untrusted input: off the event loops.
        return try await Offload.run(.ingest) {
            // What reading hostile copy costs is watched (the fault suite holds it under 100 ms a
            // megabyte): parsing, validating, and refusing alike.
            let started = threadCPUNanoseconds()
            defer { Timer(label: "wiredesk_ingest_parse_cpu").recordNanoseconds(threadCPUNanoseconds() - started) }
            let items = try Self.parseAll(payload, format: format)
            for (index, parsed) in items.enumerated() {
                do {
                    try parsed.content.validate()
                    var provenance = Validator()
                    provenance.line(fileName, "fileName", max: Limits.fileName)
                    provenance.line(parsed.agencyURI, "uri", max: Limits.uri)
                    provenance.line(parsed.agencyVersion, "version", max: Limits.shortText)
                    try provenance.finish()
                } catch let error as WiredeskError where items.count > 1 {
                    let name = parsed.agencyURI.map { " (\(String($0.prefix(100))))" } ?? ""
                    throw WiredeskError(
                        error.kind, "item \(index + 1) of \(items.count)\(name): \(error.message)", rule: error.rule,
                        fields: error.fields)
                }
            }
            return items
        }
    }

    /// One item in one transaction: the story, its revision, its audit event and the item's own
    /// bytes commit together or not at all.
    private func store(
        _ parsed: ParsedItem, of payload: Data, mediaType: String?, fileName: String?, splitTeasers: Bool,
        feed: String?, by principal: Principal, logger: Logger
    ) async throws -> IngestOutcome {
        let formatName = parsed.format
        // An item of a message is kept as its own bytes, exactly as they stand in the message.
        let bytes =
            parsed.byteRange.map { Data(payload[(payload.startIndex + $0.lowerBound)..<(payload.startIndex + $0.upperBound)]) }
            ?? payload
        let hash = Data(SHA256.hash(data: bytes))
        let itemID = UUID.random()
        let media =
            (parsed.byteRange == nil ? mediaType : nil) ?? parsed.mediaType
            ?? (formatName == "wire-text"
                ? "text/plain; charset=utf-8" : formatName == "nitf" ? "application/nitf+xml" : "application/json")
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
                        \(bytes), \(media), \(fileName), \(contentText)::jsonb, \(applied), \(warningsText)::jsonb,
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
            // The page's teasers go where the page goes.
            let route = DeskStore.route(parsed.content, by: try await DeskStore.routes(on: connection, logger: logger))
            let story = try await stories.ingested(
                parsed.content, reason: reason, route: route, by: principal, on: connection, logger: logger)
            try await store(storyID: story.id, applied: true)
            var teaserIDs: [UUID] = []
            if splitTeasers {
                for teaser in parsed.content.teasers {
                    let draft = StoryContent(
                        headline: teaser.headline, standfirst: teaser.standfirst, language: parsed.content.language)
                    let made = try await stories.ingested(
                        draft, reason: "teaser from the page of story \(story.id.uuidString.lowercased())",
                        route: route, by: principal, on: connection, logger: logger)
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
