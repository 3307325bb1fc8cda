import Foundation
import Logging
import NIOCore
import PostgresNIO

/// What a desk asks of its stories: words to find, filters that combine with them, and an order.
public struct StoryQuery: Sendable, Equatable {
    public enum Order: String, Sendable, CaseIterable {
        /// Created, newest first.
        case newest
        /// Last changed first.
        case updated
        /// Best match first (a headline hit outranks a body hit), then newest: only with words.
        case rank
        /// Most urgent first (urgency 1; none last), then newest.
        case urgent
    }

    /// A desk or a person, or none at all (`-`).
    public enum Name: Sendable, Equatable {
        case none
        case named(String)
    }

    /// Words, as a search box takes them (PostgreSQL's `websearch_to_tsquery`: `"a phrase"`, `or`,
    /// `-word`).
    public var text: String?
    public var states: [StoryState] = []
    public var desk: Name?
    public var assignee: Name?
    /// The agency credit (`source`), compared without case.
    public var source: String?
    /// A byline's name, a keyword: one of the story's, compared without case.
    public var byline: String?
    public var keyword: String?
    /// A language tag; `en` also finds `en-GB`.
    public var language: String?
    public var urgencyMin: Int?
    public var urgencyMax: Int?
    /// Each pair from (inclusive) and before.
    public var createdSince: Date?
    public var createdUntil: Date?
    public var updatedSince: Date?
    public var updatedUntil: Date?
    public var publishedSince: Date?
    public var publishedUntil: Date?
    /// Under an embargo that has not lifted yet (true), or not (false).
    public var embargoed: Bool?
    /// With a picture that has no creditline (true), or with none such (false).
    public var uncreditedPictures: Bool?
    /// nil: by rank with words, newest first without.
    public var order: Order?

    public init(text: String? = nil, states: [StoryState] = [], desk: Name? = nil, order: Order? = nil) {
        self.text = text
        self.states = states
        self.desk = desk
        self.order = order
    }

    public static let textLimit = 200

    /// The query's parameters by their API names (`urgencyMin`, `createdSince`…), as query items or
    /// CLI options give them: each value is checked, and refused naming its parameter.
    public static func parsing(_ value: (String) -> String?) throws -> StoryQuery {
        var q = StoryQuery()
        // An empty or blank search box is no words: it lists.
        if let text = value("q"), !text.allSatisfy(\.isWhitespace) {
            q.text = try FilterValue.text(text, "q", maximum: textLimit)
        }
        if let states = value("state") {
            q.states = try states.split(separator: ",", omittingEmptySubsequences: false).map {
                guard let state = StoryState(rawValue: String($0)) else {
                    throw WiredeskError.malformed(field: "state", "not one of the accepted values: \($0)")
                }
                return state
            }
        }
        q.desk = try name(value("desk"), "desk")
        q.assignee = try name(value("assignee"), "assignee")
        q.source = try FilterValue.text(value("source"), "source")
        q.byline = try FilterValue.text(value("byline"), "byline")
        q.keyword = try FilterValue.text(value("keyword"), "keyword")
        if let language = value("language") {
            guard language.range(of: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", options: .regularExpression) != nil,
                language.utf8.count <= 35
            else { throw WiredeskError.malformed(field: "language", "expected a language tag such as en or pt-BR") }
            q.language = language
        }
        q.urgencyMin = try FilterValue.integer(value("urgencyMin"), "urgencyMin", in: 1...9)
        q.urgencyMax = try FilterValue.integer(value("urgencyMax"), "urgencyMax", in: 1...9)
        q.createdSince = try FilterValue.date(value("createdSince"), "createdSince")
        q.createdUntil = try FilterValue.date(value("createdUntil"), "createdUntil")
        q.updatedSince = try FilterValue.date(value("updatedSince"), "updatedSince")
        q.updatedUntil = try FilterValue.date(value("updatedUntil"), "updatedUntil")
        q.publishedSince = try FilterValue.date(value("publishedSince"), "publishedSince")
        q.publishedUntil = try FilterValue.date(value("publishedUntil"), "publishedUntil")
        q.embargoed = try FilterValue.bool(value("embargoed"), "embargoed")
        q.uncreditedPictures = try FilterValue.bool(value("uncreditedPictures"), "uncreditedPictures")
        if let order = value("order") {
            guard let order = Order(rawValue: order) else {
                throw WiredeskError.malformed(field: "order", "not one of the accepted values: \(order)")
            }
            q.order = order
        }
        if q.order == .rank, q.text == nil {
            throw WiredeskError.invalid(field: "order", "rank orders by how well stories match q; give q")
        }
        return q
    }

    /// The parameters `parsing` reads, besides the page's own (`cursor`, `limit`, `full`).
    public static let parameters = [
        "q", "state", "desk", "assignee", "source", "byline", "keyword", "language", "urgencyMin", "urgencyMax",
        "createdSince", "createdUntil", "updatedSince", "updatedUntil", "publishedSince", "publishedUntil",
        "embargoed", "uncreditedPictures", "order",
    ]

    private static func name(_ text: String?, _ field: String) throws -> Name? {
        guard let text = try FilterValue.text(text, field, maximum: 64) else { return nil }
        return text == "-" ? Name.none : .named(text)
    }

    public var effectiveOrder: Order { order ?? (text == nil ? .newest : .rank) }

    /// Where a page ends, in the order it was read in: the rank (for `rank`) or the urgency (for
    /// `urgent`, 10 for none), the time (created, or updated for `updated`) in microseconds, and
    /// the id. Any token of the shape is a position.
    public struct Cursor: Equatable, Sendable {
        public var order: Order
        public var rank: Float
        public var micros: Int64
        public var id: UUID

        public init(order: Order, rank: Float = 0, micros: Int64, id: UUID) {
            self.order = order
            self.rank = rank
            self.micros = micros
            self.id = id
        }

        /// `1641538800000000-1f0c…` (newest), `u1641538800000000-1f0c…` (updated),
        /// `r3f1c28f6.1641538800000000-1f0c…` (rank: its bits as 8 hex digits),
        /// `g3.1641538800000000-1f0c…` (urgent: the urgency).
        public var token: String {
            let position = "\(micros)-\(id.uuidString.lowercased())"
            switch order {
            case .newest: return position
            case .updated: return "u" + position
            case .rank:
                let bits = String(rank.bitPattern, radix: 16)
                return "r" + String(repeating: "0", count: 8 - bits.count) + bits + "." + position
            case .urgent: return "g\(Int(rank))." + position
            }
        }

        public init(token: String, order expected: Order) throws {
            let bad = WiredeskError.malformed(field: "cursor", "not a cursor this server issued")
            var rest = Substring(token)
            switch rest.first {
            case "u":
                order = .updated
                rest = rest.dropFirst()
                rank = 0
            case "r":
                order = .rank
                let bits = rest.dropFirst().prefix(8)
                guard bits.count == 8, bits.utf8.allSatisfy(ASCII.isLowerHex), let value = UInt32(bits, radix: 16),
                    rest.dropFirst(9).first == "."
                else { throw bad }
                rank = Float(bitPattern: value)
                rest = rest.dropFirst(10)
            case "g":
                order = .urgent
                let digits = rest.dropFirst().prefix { $0 != "." }
                guard let urgency = ASCII.number(digits.utf8, maxDigits: 2), (1...10).contains(urgency),
                    rest.dropFirst(1 + digits.count).first == "."
                else { throw bad }
                rank = Float(urgency)
                rest = rest.dropFirst(2 + digits.count)
            default:
                order = .newest
                rank = 0
            }
            guard let dash = rest.utf8.firstIndex(of: UInt8(ascii: "-")) else { throw bad }
            let uuid = String(rest[rest.utf8.index(after: dash)...])
            guard let micros = ASCII.number(rest.utf8[..<dash], maxDigits: 17),
                uuid == uuid.lowercased(), uuid.utf8.count == 36, let id = UUID(uuidString: uuid)
            else { throw bad }
            self.micros = micros
            self.id = id
            // A position, but in another order than the one asked for.
            guard order == expected else {
                throw WiredeskError.invalid(
                    field: "cursor", "a cursor of the \(order.rawValue) order, not of this \(expected.rawValue) one")
            }
        }
    }
}

/// Finds stories: full-text search and filters over `stories` and `story_search` (migration
/// 0016), a page at a time in keyset order, so that stories added while a client pages never shift
/// the pages it has yet to read. Pages are written by PostgreSQL as the API's JSON: summaries
/// (with highlighted snippets when there are words), or whole stories.
public struct StorySearch: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public static let pageLimit = 1...500

    /// A page of items as JSON, each as the API sends it, and the cursor of the next page.
    public struct Page: Sendable {
        public var items: [ByteBuffer]
        public var next: StoryQuery.Cursor?

        /// `{"stories":[…],"nextCursor":"…"}` (StoryPage or StorySummaryPage in openapi.yaml).
        public var body: ByteBuffer {
            var body = ByteBuffer()
            body.reserveCapacity(items.reduce(64) { $0 + $1.readableBytes + 1 })
            body.writeStaticString(#"{"stories":["#)
            for (index, item) in items.enumerated() {
                if index > 0 { body.writeStaticString(",") }
                body.writeImmutableBuffer(item)
            }
            body.writeStaticString("]")
            if let next { body.writeString(#","nextCursor":"\#(next.token)""#) }
            body.writeStaticString("}")
            return body
        }
    }

    /// A page of the stories `query` finds, after `cursor`: at most `limit`, and, past the first,
    /// stopping before their JSON passes `maximumBytes`. Summaries unless `full`.
    public func page(
        _ query: StoryQuery, after cursor: StoryQuery.Cursor? = nil, limit: Int = 50, full: Bool = false,
        maximumBytes: Int = 4 << 20, by principal: Principal, logger: Logger
    ) async throws -> Page {
        try Workflow.checkRead(by: principal)
        guard Self.pageLimit.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected 1 to \(Self.pageLimit.upperBound)")
        }
        let order = query.effectiveOrder
        let rows = try await rows(query, after: cursor, limit: limit, full: full, logger: logger)
        let (items, next) = try KeysetPage.cut(rows, limit: limit, maximumBytes: maximumBytes) { row in
            let (item, rank, micros, id) = try row.decode((ByteBuffer, Float?, Int64, UUID).self)
            let position = StoryQuery.Cursor(
                order: order, rank: order == .rank || order == .urgent ? rank ?? 0 : 0, micros: micros, id: id)
            return (item, item.readableBytes, position)
        }
        return Page(items: items, next: next)
    }

    /// The ids of the stories `query` finds, in its order, up to one more than `maximum` (a bulk
    /// change's selection, which refuses more than its maximum).
    func ids(_ query: StoryQuery, maximum: Int, logger: Logger) async throws -> [UUID] {
        try await rows(query, after: nil, limit: maximum, full: false, logger: logger).prefix(maximum + 1)
            .map { try $0.decode((ByteBuffer, Float?, Int64, UUID).self).3 }
    }

    /// By rank: the stories whose head (headline, slug, standfirst, dateline, bylines, keywords,
    /// subjects, captions, crossheads) holds the words, ranked by how much of the head holds which
    /// of them (above 0); then those whose text holds them only with the body's help (rank 0),
    /// newest first.
    enum Tier {
        case head, body
    }

    /// Up to `limit + 1` rows of the page after `cursor`, in order (see `sql`). By rank, the head
    /// tier is asked for first, and the body tier only when it does not fill the page. Each is found
    /// by its own index without reading a document: a common word's search then reads a page of
    /// stories, not every story that holds it.
    private func rows(
        _ query: StoryQuery, after cursor: StoryQuery.Cursor?, limit: Int, full: Bool, logger: Logger
    ) async throws -> [PostgresRow] {
        let words = try await words(query, logger: logger)
        guard query.text != nil, query.effectiveOrder == .rank else {
            return try await database.rows(
                Self.sql(query, words: words, after: cursor, limit: limit, full: full), logger: logger)
        }
        // One snapshot for both: a story edited in between is in one tier or the other, never both.
        return try await database.transaction(logger: logger) { connection in
            try await connection.rows("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var rows: [PostgresRow] = []
            if cursor.map({ $0.rank > 0 }) ?? true {
                rows = try await connection.rows(
                    Self.sql(query, words: words, after: cursor, limit: limit, full: full, tier: .head), logger: logger)
            }
            if rows.count <= limit {
                rows += try await connection.rows(
                    Self.sql(query, words: words, after: cursor, limit: limit, full: full, tier: .body), logger: logger)
            }
            return rows
        }
    }

    /// PostgreSQL's plan of the page's query, as it ran (`EXPLAIN ANALYZE`): for operators and
    /// the benchmark's record. By rank, both tiers' plans (a page reads the body tier only when
    /// the head tier does not fill it).
    public func explain(
        _ query: StoryQuery, after cursor: StoryQuery.Cursor? = nil, limit: Int = 50, full: Bool = false,
        by principal: Principal, logger: Logger
    ) async throws -> String {
        try Workflow.checkRead(by: principal)
        let words = try await words(query, logger: logger)
        let tiers: [Tier?] = query.text != nil && query.effectiveOrder == .rank ? [.head, .body] : [nil]
        var plans: [String] = []
        for tier in tiers {
            let sql = Self.sql(query, words: words, after: cursor, limit: limit, full: full, tier: tier)
            let plan = try await database.rows("EXPLAIN (ANALYZE, BUFFERS) \(sql)", logger: logger)
                .map { try $0.decode(String.self) }.joined(separator: "\n")
            plans.append((tier.map { "-- \($0 == .head ? "head" : "body") tier\n" } ?? "") + plan)
        }
        return plans.joined(separator: "\n\n")
    }

    // MARK: SQL

    /// The words as read in one text search configuration: the query, and any of its words (what
    /// ranking and snippets look for), as PostgreSQL writes them.
    struct Words: Sendable {
        var config: String
        var query: String
        var terms: String
    }

    /// The query's words read in each text search configuration the stories are indexed in (a skip
    /// scan of its index), or only the one of the language asked for. None without words. Read
    /// first, so that the search itself holds them as values and PostgreSQL can tell from its
    /// statistics how many stories hold them.
    private func words(_ query: StoryQuery, logger: Logger) async throws -> [Words] {
        guard let text = query.text else { return [] }
        let language: SQL = query.language.map { "AND config = search_config(\($0)::text)" } ?? ""
        return try await database.rows(
            """
            WITH RECURSIVE configs AS (
                (SELECT config FROM story_search ORDER BY config LIMIT 1)
                UNION ALL
                SELECT (SELECT s.config FROM story_search s WHERE s.config > c.config ORDER BY s.config LIMIT 1)
                FROM configs c WHERE c.config IS NOT NULL
            )
            SELECT config, query::text, search_terms(query)::text
            FROM (SELECT config, websearch_to_tsquery(config::regconfig, \(text)::text) AS query FROM configs
                  WHERE config IS NOT NULL \(language)) AS words
            """, logger: logger
        ).map {
            let (config, query, terms) = try $0.decode((String, String, String).self)
            return Words(config: config, query: query, terms: terms)
        }
    }

    /// Up to `limit + 1` items in the query's order, for a page to be cut from: each row the item's
    /// JSON, then its position (rank or NULL, microseconds, id).
    ///
    /// With words, a story matches when its document holds them as read in its own configuration
    /// (the (config, document) index). By rank, the page comes from one `tier` at a time.
    static func sql(
        _ query: StoryQuery, words: [Words], after cursor: StoryQuery.Cursor?, limit: Int, full: Bool, tier: Tier? = nil
    ) -> SQL {
        let order = query.effectiveOrder
        let time = order == .updated ? "updated_at" : "created_at"
        // The story's own fields: from `stories` and its indexes for lists, from the copy in
        // `story_search` for a search, whose rows the words have found already.
        let own = query.text == nil ? "st" : "s"
        let id = own == "st" ? "st.id" : "s.story_id"
        let filters = filters(query, own: own)
        var at: SQL = "NULL"
        if let cursor {
            let (seconds, micros) = cursor.micros.quotientAndRemainder(dividingBy: 1_000_000)
            at = "to_timestamp(\(seconds)::bigint) + \(micros)::bigint * interval '1 microsecond'"
        }
        let columns = """
            \(id) AS id, \(own).state, \(own).version, \(own).desk, \(own).assignee, \(own).created_at,
            \(own).updated_at, \(own).published_at, s.headline, s.slug, s.source, s.language, s.urgency, s.embargo,
            s.config
            """
        var page: SQL
        if query.text != nil {
            // One branch per configuration, each with its words as values and conditions its two
            // indexes answer exactly: no story's document is read to tell whether it matches.
            var branches: [SQL] = []
            for words in words {
                var condition: SQL = "s.config = \(words.config)::text AND s.document @@ \(words.query)::tsquery"
                var rank: SQL = "ts_rank(s.head, \(words.terms)::tsquery)"
                var sort = "s.\(time) DESC, s.story_id DESC"
                var position: SQL =
                    cursor == nil ? "" : "AND (s.\(unescaped: time), s.story_id) < (\(at), \(cursor!.id)::uuid)"
                if order == .urgent {
                    rank = Self.urgency("s")
                    sort = "rank, s.created_at DESC, s.story_id DESC"
                    position = cursor.map { Self.after($0, at: at, own: "s", id: "s.story_id") } ?? ""
                }
                switch tier {
                case .head?:
                    // The head is part of the document: a head that holds the words, the document does.
                    condition = "s.config = \(words.config)::text AND s.head @@ \(words.query)::tsquery"
                    sort = "rank DESC, s.created_at DESC, s.story_id DESC"
                    position =
                        cursor == nil
                        ? "" : "AND (\(rank), s.created_at, s.story_id) < (\(cursor!.rank)::real, \(at), \(cursor!.id)::uuid)"
                case .body?:
                    condition = "\(condition) AND NOT (s.head @@ \(words.query)::tsquery)"
                    rank = "0::real"
                    sort = "s.created_at DESC, s.story_id DESC"
                    position =
                        cursor == nil
                        ? "" : "AND (0::real, s.created_at, s.story_id) < (\(cursor!.rank)::real, \(at), \(cursor!.id)::uuid)"
                case nil:
                    break
                }
                branches.append(
                    """
                    (SELECT \(unescaped: columns), \(words.query)::tsquery AS query, \(rank) AS rank
                     FROM story_search s
                     WHERE \(condition) AND \(filters) \(position)
                     ORDER BY \(unescaped: sort)
                     LIMIT \(limit + 1))
                    """)
            }
            page = branches.first ?? "SELECT \(unescaped: columns), NULL::tsquery AS query, NULL::real AS rank FROM story_search s WHERE FALSE"
            for branch in branches.dropFirst() { page = "\(page) UNION ALL \(branch)" }
        } else if order == .urgent {
            page = """
                SELECT \(unescaped: columns), NULL::tsquery AS query, \(Self.urgency("s")) AS rank
                FROM stories st JOIN story_search s ON s.story_id = st.id
                WHERE \(filters) \(cursor.map { Self.after($0, at: at, own: "st", id: "st.id") } ?? "")
                ORDER BY rank, st.created_at DESC, st.id DESC
                LIMIT \(limit + 1)
                """
        } else {
            let position: SQL =
                cursor == nil ? "" : "AND (st.\(unescaped: time), st.id) < (\(at), \(cursor!.id)::uuid)"
            page = """
                SELECT \(unescaped: columns), NULL::tsquery AS query, NULL::real AS rank
                FROM stories st JOIN story_search s ON s.story_id = st.id
                WHERE \(filters) \(position)
                ORDER BY st.\(unescaped: time) DESC, st.id DESC
                LIMIT \(limit + 1)
                """
        }
        let sort =
            switch order {
            case .rank: "rank DESC, created_at DESC, id DESC"
            case .urgent: "rank, created_at DESC, id DESC"
            case .newest, .updated: "\(time) DESC, id DESC"
            }
        // Snippets of the standfirst and lead come from the copy itself, read for the page's stories alone.
        let snippets =
            query.text == nil
            ? "NULL"
            : """
            json_build_object(
                'headline', search_snippet(config, headline, query, true),
                'standfirst', search_snippet(config, copy.content->>'standfirst', query, false),
                'lead', search_snippet(config, story_lead(copy.content), query, false))
            """
        let copy =
            query.text == nil || full
            ? "" : "LEFT JOIN LATERAL (SELECT content FROM stories WHERE stories.id = page.id) AS copy ON TRUE"
        let item =
            full
            ? "(SELECT rendered FROM stories WHERE stories.id = page.id)"
            : """
            json_strip_nulls(json_build_object(
                'id', id, 'slug', slug, 'headline', headline, 'state', state, 'desk', desk, 'assignee', assignee,
                'urgency', urgency, 'source', source, 'language', language, 'embargo', api_timestamp(embargo),
                'version', version, 'createdAt', api_timestamp(created_at), 'updatedAt', api_timestamp(updated_at),
                'publishedAt', api_timestamp(published_at),
                'rank', \(query.text == nil || order == .urgent ? "NULL" : "rank"),
                'snippets', \(snippets)))::text
            """
        return """
            SELECT \(unescaped: item), rank, (extract(epoch FROM \(unescaped: time)) * 1000000)::bigint, id
            FROM (\(page)) AS page
            \(unescaped: copy)
            ORDER BY \(unescaped: sort)
            LIMIT \(limit + 1)
            """
    }

    /// Urgency as the `urgent` order sorts it: 1 first, none (10) last.
    private static func urgency(_ alias: String) -> SQL {
        "coalesce(\(unescaped: alias).urgency, 10)::real"
    }

    /// Past `cursor` in the `urgent` order: less urgent, or as urgent and older.
    private static func after(_ cursor: StoryQuery.Cursor, at: SQL, own: String, id: String) -> SQL {
        let urgency = urgency("s")
        return """
            AND (\(urgency) > \(cursor.rank)::real
                 OR (\(urgency) = \(cursor.rank)::real AND (\(unescaped: own).created_at, \(unescaped: id)) < (\(at), \(cursor.id)::uuid)))
            """
    }

    /// The filters, each only when asked for, so that PostgreSQL picks the index for it.
    /// `own`: the alias of the story's own fields (state, desk, assignee, times), `st` or `s`.
    private static func filters(_ q: StoryQuery, own: String) -> SQL {
        var sql: SQL = "TRUE"
        if !q.states.isEmpty { sql = "\(sql) AND \(unescaped: own).state = ANY(\(q.states.map(\.rawValue))::text[])" }
        switch q.desk {
        case .none?: sql = "\(sql) AND \(unescaped: own).desk IS NULL"
        case .named(let name)?: sql = "\(sql) AND \(unescaped: own).desk = \(name)::text"
        case nil: break
        }
        switch q.assignee {
        case .none?: sql = "\(sql) AND \(unescaped: own).assignee IS NULL"
        case .named(let name)?: sql = "\(sql) AND \(unescaped: own).assignee = \(name)::text"
        case nil: break
        }
        if let source = q.source { sql = "\(sql) AND lower(s.source) = lower(\(source)::text)" }
        if let byline = q.byline { sql = "\(sql) AND s.bylines @> ARRAY[lower(\(byline)::text)]" }
        if let keyword = q.keyword { sql = "\(sql) AND s.keywords @> ARRAY[lower(\(keyword)::text)]" }
        if let language = q.language {
            // The tag's shape was checked: letters, digits and '-', nothing LIKE reads.
            sql = "\(sql) AND (lower(s.language) = lower(\(language)::text) OR lower(s.language) LIKE lower(\(language)::text) || '-%')"
        }
        if let min = q.urgencyMin { sql = "\(sql) AND s.urgency >= \(min)::integer" }
        if let max = q.urgencyMax { sql = "\(sql) AND s.urgency <= \(max)::integer" }
        for (column, since, until) in [
            ("created_at", q.createdSince, q.createdUntil), ("updated_at", q.updatedSince, q.updatedUntil),
            ("published_at", q.publishedSince, q.publishedUntil),
        ] {
            if let since { sql = "\(sql) AND \(unescaped: own).\(unescaped: column) >= \(since)::timestamptz" }
            if let until { sql = "\(sql) AND \(unescaped: own).\(unescaped: column) < \(until)::timestamptz" }
        }
        switch q.embargoed {
        case true?: sql = "\(sql) AND s.embargo > now()"
        case false?: sql = "\(sql) AND (s.embargo IS NULL OR s.embargo <= now())"
        case nil: break
        }
        if let uncredited = q.uncreditedPictures { sql = "\(sql) AND s.uncredited_pictures = \(uncredited)::boolean" }
        return sql
    }
}
