import Foundation
import Logging
import PostgresNIO

/// The feed (`feed_entries`, migration 0007): what was published, corrected and killed, in the
/// order the changes committed, for downstream systems that follow it with a cursor.
///
/// Entries are read in (txid, id) order and only once their transaction is older than every
/// transaction still running (`pg_snapshot_xmin`), as the audit chain is sealed. A transaction
/// that is still open may commit an entry later, but never before a position a reader has been
/// given: every entry behind a cursor was already there, so a consumer that follows cursors sees
/// each entry once, in order, whatever commits concurrently. The price is that one long-running
/// writer holds the feed back until it ends (the server's transactions are bounded by
/// `--statement-timeout` and `--idle-transaction-timeout`).
public struct FeedStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Who reads the feed: the desk's roles, and partner systems.
    public static let readers: Set<Role> = [.reporter, .editor, .publisher, .admin, .subscriber]

    public static func authorize(_ principal: Principal) throws {
        guard readers.contains(principal.role) else {
            let allowed = readers.map(\.rawValue).sorted().joined(separator: ", ")
            throw WiredeskError(
                .forbidden, "\(principal.name) is \(principal.role.rawValue); only \(allowed) may read the feed",
                rule: "feed.role")
        }
    }

    public static let pageLimit = 1...500
    /// A page stops before its items pass this many bytes (the first goes in however large).
    public static let pageBytes = 1 << 20

    /// A position in the feed: the entry's transaction and id, `8123-451`. `0-0` is the start.
    public struct Cursor: Hashable, Comparable, Sendable {
        public var txid: UInt64
        public var id: Int64

        public static let start = Cursor(txid: 0, id: 0)

        public var token: String { "\(txid)-\(id)" }

        public static func < (a: Cursor, b: Cursor) -> Bool { (a.txid, a.id) < (b.txid, b.id) }

        public init(txid: UInt64, id: Int64) {
            self.txid = txid
            self.id = id
        }

        /// `field`: where the token came from, for the error.
        public init(token: String, field: String = "after") throws {
            let parts = token.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            guard parts.count == 2, let txid = ASCII.number(parts[0], maxDigits: 18),
                let id = ASCII.number(parts[1], maxDigits: 18)
            else { throw WiredeskError.malformed(field: field, "not a cursor this server issued") }
            self.txid = UInt64(txid)
            self.id = id
        }
    }

    /// One entry as read: where it is, what change wrote it, when, and the ninjs 3.1 item
    /// (a tombstone if its story has been killed since).
    public struct Entry: Sendable {
        public var position: Cursor
        public var kind: FeedItem.Kind
        public var at: Date
        public var item: JSONValue
    }

    public struct Page: Sendable {
        /// In feed order.
        public var entries: [Entry]
        /// The entries' ninjs 3.1 items.
        public var items: [JSONValue] { entries.map(\.item) }
        /// Where the next page starts: after the last item, or where this one started if it is empty.
        public var next: Cursor
        /// A strong validator of the page: it changes whenever the page would read differently.
        public var etag: String
    }

    /// The entries after `cursor`, at most `limit` and, past the first, not more than `maximumBytes`
    /// of items. Entries of a story killed since are tombstones.
    public func page(
        after cursor: Cursor = .start, limit: Int = 100, maximumBytes: Int = FeedStore.pageBytes, logger: Logger
    ) async throws -> Page {
        let (entries, next, etag) = try await released(
            after: cursor, limit: limit, maximumBytes: maximumBytes,
            columns: "e.story_id, e.version, e.at, e.item::text, s.state, s.kill_notice, s.created_at, e.kind",
            from: "feed_entries e JOIN stories s ON s.id = e.story_id", logger: logger
        ) { position, row in
            let storyID = try row[4].decode(UUID.self)
            let (version, at, item) = (try row[5].decode(Int.self), try row[6].decode(Date.self), try row[7].decode(String.self))
            let entry: JSONValue
            if try row[8].decode(String.self) == StoryState.killed.rawValue {
                entry = FeedItem.tombstone(
                    id: storyID, version: version, firstCreated: try row[10].decode(Date.self),
                    notice: try row[9].decode(String?.self) ?? "")
            } else {
                entry = try JSONCoding.decoder(stored: true).decode(JSONValue.self, from: Data(item.utf8))
            }
            guard case .object(var fields) = entry, let kind = FeedItem.Kind(rawValue: try row[11].decode(String.self))
            else { throw WiredeskError(.notFound, "feed entry \(position.id) is not a ninjs item") }
            fields["versionCreated"] = .string(JSONCoding.formatDate(at))
            return Entry(position: position, kind: kind, at: at, item: .object(fields))
        }
        return Page(entries: entries, next: next, etag: etag)
    }

    /// The page's validator without reading stories or items: for a conditional GET, which
    /// answers 304 when it matches.
    public func etag(
        after cursor: Cursor = .start, limit: Int = 100, maximumBytes: Int = FeedStore.pageBytes, logger: Logger
    ) async throws -> String {
        try await released(
            after: cursor, limit: limit, maximumBytes: maximumBytes, columns: nil, from: "feed_entries e", logger: logger
        ) { position, _ in position }.etag
    }

    /// Where the released feed ends now: the newest entry no running transaction is older than
    /// (`start` while there is none). A reader whose cursor is there has everything.
    public func head(logger: Logger) async throws -> Cursor {
        let rows = try await database.rows(
            """
            SELECT e.txid::text, e.id FROM feed_entries e
            WHERE \(Self.released(after: .start))
            ORDER BY e.txid DESC, e.id DESC
            LIMIT 1
            """,
            logger: logger)
        guard let row = rows.first?.makeRandomAccess() else { return .start }
        let id = try row[1].decode(Int64.self)
        return try Self.position(try row[0].decode(String.self), id)
    }

    /// The released entries after `cursor` that make one page, each read by `read` from its row
    /// (whose columns are position, size and newest kill, then `columns`), where the page ends,
    /// and its validator. The page and its validator are cut by the same rule from the same rows.
    private func released<Item>(
        after cursor: Cursor, limit: Int, maximumBytes: Int, columns: String?, from tables: String, logger: Logger,
        _ read: (Cursor, PostgresRandomAccessRow) throws -> Item
    ) async throws -> (items: [Item], next: Cursor, etag: String) {
        try Self.check(limit)
        let rows = try await database.rows(
            """
            SELECT e.txid::text, e.id, pg_column_size(e.item), \(unescaped: Self.lastKill)\(unescaped: columns.map { ", " + $0 } ?? "")
            FROM \(unescaped: tables)
            WHERE \(Self.released(after: cursor))
            ORDER BY e.txid, e.id
            LIMIT \(limit)
            """,
            logger: logger)
        var lastKill: Int64?
        var items: [Item] = []
        var bytes = 0
        var last: Cursor?
        // The item as stored counts towards the size (a tombstone is smaller, never larger); the
        // first goes in however large.
        for row in rows {
            let row = row.makeRandomAccess()
            let (id, size) = (try row[1].decode(Int64.self), try row[2].decode(Int.self))
            if !items.isEmpty && bytes + size > maximumBytes { break }
            lastKill = try row[3].decode(Int64?.self)
            let position = try Self.position(try row[0].decode(String.self), id)
            items.append(try read(position, row))
            bytes += size
            last = position
        }
        let next = last ?? cursor
        return (items, next, Self.etag(after: cursor, count: items.count, last: next, kill: lastKill))
    }

    private static let lastKill = "(SELECT max(id) FROM feed_entries WHERE kind = 'kill') AS last_kill"

    private static func position(_ txid: String, _ id: Int64) throws -> Cursor {
        guard let value = UInt64(txid) else { throw WiredeskError(.notFound, "feed entry \(id) has no transaction") }
        return Cursor(txid: value, id: id)
    }

    /// Entries after the cursor whose transaction no running transaction is older than.
    private static func released(after cursor: Cursor) -> SQL {
        """
        (e.txid, e.id) > (\(String(cursor.txid))::text::xid8, \(cursor.id))
        AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        """
    }

    private static func check(_ limit: Int) throws {
        guard pageLimit.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected 1 to \(pageLimit.upperBound)")
        }
    }

    /// The entries a page holds are fixed by where it starts and ends, and only a kill changes
    /// how they read.
    private static func etag(after cursor: Cursor, count: Int, last: Cursor, kill: Int64?) -> String {
        "\"\(cursor.token).\(count).\(last.token).\(kill ?? 0)\""
    }

    // MARK: Writing

    /// The entry a change writes, inside the change's own statement: `after` names the common
    /// table expression of the story's write, so that a stale write records nothing.
    static func insert(_ story: Story, version: Int, kind: FeedItem.Kind, after change: String) throws -> SQL {
        let item = String(
            decoding: try JSONCoding.encode(FeedItem.stored(story, version: version, kind: kind)), as: UTF8.self)
        return """
            INSERT INTO feed_entries (story_id, version, kind, item)
            SELECT id, version, \(kind.rawValue), \(item)::jsonb FROM \(unescaped: change)
            """
    }
}
