import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Auditors' queries over the whole trail return exactly the matching events: each filter alone and
/// combined, every page once and in order, and the export the same events oldest first.
@Suite struct AuditQueryTests {
    /// A small newsroom's day: stories by two reporters, an editor's transitions, one request with
    /// an id, user and token events by the admin.
    static func day(_ newsroom: Newsroom) async throws {
        let first = try await newsroom.story(through: [.submit, .approve, .publish])
        _ = try await newsroom.story(by: newsroom.otherReporter, through: [.submit, .requestChanges])
        let viaAPI = Principal(name: "rita", role: .reporter, source: .api, requestID: "req-almaty-7")
        let third = try await newsroom.stories.create(try Newsroom.almaty(), by: viaAPI, logger: newsroom.logger)
        _ = try await newsroom.stories.transition(
            third.id, .submit, reason: nil, patch: nil, ifVersion: third.version, by: viaAPI, logger: newsroom.logger)
        _ = try await newsroom.users.createToken(for: "pat", by: newsroom.admin, logger: newsroom.logger)
        _ = try await newsroom.users.disable("ravi", by: newsroom.admin, logger: newsroom.logger)
        _ = try await newsroom.stories.transition(
            first.id, .correct, reason: "Corrects the number of arrests",
            patch: .object(["standfirst": .string("Corrected")]), ifVersion: first.version, by: newsroom.editor,
            logger: newsroom.logger)
    }

    /// Every page of `query`, following the cursors.
    static func allPages(_ query: AuditQuery, limit: Int, _ newsroom: Newsroom) async throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        var cursor: AuditQuery.Cursor?
        repeat {
            let page = try await query.page(
                after: cursor, limit: limit, database: newsroom.database, logger: newsroom.logger)
            #expect(page.events.count <= limit)
            events += page.events
            cursor = page.next
            if let next = cursor {
                // A client sends the cursor back as text.
                cursor = try AuditQuery.Cursor(token: next.token)
            }
        } while cursor != nil
        return events
    }

    static func exported(_ query: AuditQuery, _ newsroom: Newsroom) async throws -> [Int64] {
        let ids = Collected()
        try await query.export(database: newsroom.database, logger: newsroom.logger) { ids.append($0.id) }
        return ids.values
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var ids: [Int64] = []
        func append(_ id: Int64) { lock.withLock { ids.append(id) } }
        var values: [Int64] { lock.withLock { ids } }
    }

    @Test func eachFilterAndCombinationReturnsExactlyTheMatchingEvents() async throws {
        try await Newsroom.with { newsroom in
            try await Self.day(newsroom)
            let everything = try await Self.allPages(AuditQuery(), limit: 500, newsroom)
            #expect(everything.count == (try await newsroom.count("SELECT count(*) FROM audit_events")))
            #expect(everything.count > 15)
            let newestFirst = everything.sorted { ($0.at, $0.id) > ($1.at, $1.id) }
            #expect(everything.map(\.id) == newestFirst.map(\.id))

            // Time bounds halfway between events, so that no event sits on one.
            let times = Array(Set(everything.map(\.at))).sorted()
            let since = times[times.count / 3 - 1].addingTimeInterval(
                times[times.count / 3].timeIntervalSince(times[times.count / 3 - 1]) / 2)
            let until = times[2 * times.count / 3 - 1].addingTimeInterval(
                times[2 * times.count / 3].timeIntervalSince(times[2 * times.count / 3 - 1]) / 2)
            let story = try #require(everything.first { $0.actor == "ravi" && $0.action == "create" }?.storyId)

            let cases: [(AuditQuery, (AuditEvent) -> Bool)] = [
                (AuditQuery(story: story), { $0.storyId == story }),
                (AuditQuery(actor: "ed"), { $0.actor == "ed" }),
                (AuditQuery(action: "submit"), { $0.action == "submit" }),
                (AuditQuery(source: .api), { $0.source == .api }),
                (AuditQuery(since: since), { $0.at >= since }),
                (AuditQuery(until: until), { $0.at < until }),
                (AuditQuery(since: since, until: until), { $0.at >= since && $0.at < until }),
                (AuditQuery(actor: "ed", since: since, until: until), { $0.actor == "ed" && $0.at >= since && $0.at < until }),
                (AuditQuery(actor: "ada", action: "user.disable"), { $0.actor == "ada" && $0.action == "user.disable" }),
                (AuditQuery(requestID: "req-almaty-7"), { $0.requestId == "req-almaty-7" }),
                (AuditQuery(actor: "nobody"), { _ in false }),
            ]
            for (query, matches) in cases {
                let expected = everything.filter(matches).map(\.id)
                #expect(try await Self.allPages(query, limit: 2, newsroom).map(\.id) == expected, "\(query)")
                #expect(try await Self.exported(query, newsroom) == expected.reversed(), "\(query)")
            }
            // The filters that must find something do.
            for (query, matches) in cases.dropLast() { #expect(everything.contains(where: matches), "\(query)") }
            // User and token events are in the trail, naming whom they were about.
            let disable = try #require(everything.first { $0.action == "user.disable" })
            #expect(disable.subject == "ravi" && disable.actor == "ada")
            #expect(everything.contains { $0.action == "token.create" && $0.reason == "for pat" })
        }
    }

    /// The API's pages are written from the rows' bytes: each event must be the one the Core reads, field
    /// for field, with absent fields left out, and the pages must end where the Core's end.
    @Test func renderedPagesSayWhatTheEventsSay() async throws {
        try await Newsroom.with { newsroom in
            try await Self.day(newsroom)
            let story = try await newsroom.story(through: [.submit])
            let edited = try await newsroom.stories.edit(
                story.id, patch: .object(["standfirst": .null, "headline": .string("Almaty: new headline")]),
                reason: "shorter", ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            // Text that JSON must escape, and text beyond ASCII.
            _ = try await newsroom.stories.edit(
                story.id, patch: .object(["headline": .string("Алматы: \"curfew\" \\ lifted")]),
                reason: "quote \"marks\", a back\\slash,\ta tab and a\nline — Алматы",
                ifVersion: edited.version, by: newsroom.editor, logger: newsroom.logger)
            for limit in [3, 500] {
                let typed = try await AuditQuery().page(limit: limit, database: newsroom.database, logger: newsroom.logger)
                let rendered = try await AuditQuery().renderedPage(
                    limit: limit, database: newsroom.database, logger: newsroom.logger)
                #expect(rendered.nextCursor == typed.next?.token)
                let page = try #require(
                    try JSONSerialization.jsonObject(with: Data(rendered.json.utf8)) as? [String: Any])
                let events = try #require(page["events"] as? [[String: Any]])
                #expect(events.count == typed.events.count)
                for (json, event) in zip(events, typed.events) {
                    var expected = try #require(
                        try JSONSerialization.jsonObject(with: try JSONCoding.encode(event)) as? [String: Any])
                    var actual = json
                    // Milliseconds, rounded from microseconds on both sides.
                    let text = try #require(actual.removeValue(forKey: "at") as? String)
                    let at = try #require(JSONCoding.parseDate(text))
                    #expect(abs(at.timeIntervalSince(event.at)) < 0.001)
                    expected.removeValue(forKey: "at")
                    #expect(NSDictionary(dictionary: actual).isEqual(to: expected), "\(actual) vs \(expected)")
                }
            }
            let history = try await AuditLog.renderedHistory(
                of: story.id, limit: 2, database: newsroom.database, logger: newsroom.logger)
            let typedHistory = try await AuditLog.history(
                of: story.id, limit: 2, database: newsroom.database, logger: newsroom.logger)
            #expect(history.nextCursor == typedHistory.next.map { String($0) })
            #expect(history.count == 2)
            #expect(history.json.contains(#""reason":"shorter""#))
            #expect(history.json.contains(#""reason":"quote \"marks\", a back\\slash,\ta tab and a\nline — Алматы""#))
        }
    }

    /// Pages of large diffs (edits that rewrite a body of text that does not compress) are cut in
    /// the database as well as by the server, and still hold every event once, in order, the
    /// rendered pages ending where the typed ones do.
    @Test func pagesOfLargeDiffsAreWholeWhereverTheyAreCut() async throws {
        try await Newsroom.with { newsroom in
            var content = try Newsroom.almaty()
            var story = try await newsroom.story(content)
            var state: UInt64 = 9
            func noise() -> String {
                (0..<700).map { _ in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return String(state >> 40, radix: 36)
                }.joined(separator: " ")
            }
            for _ in 0..<6 {
                content.body = (0..<2).map { _ in BodyBlock(.paragraph, noise()) }
                story = try await newsroom.stories.edit(
                    story.id, patch: .object(["body": try JSONValue(encoding: content.body)]), ifVersion: story.version,
                    by: newsroom.reporter, logger: newsroom.logger)
            }
            let all = try await AuditLog.history(
                of: story.id, maximumBytes: 10 << 20, database: newsroom.database, logger: newsroom.logger)
            #expect(all.events.count == 7 && all.next == nil)
            for bytes in [1, 20_000, 45_000, 100_000] {
                var seen: [Int64] = []
                var before: Int64?
                var pages = 0
                repeat {
                    let page = try await AuditLog.history(
                        of: story.id, before: before, limit: 100, maximumBytes: bytes, database: newsroom.database,
                        logger: newsroom.logger)
                    let rendered = try await AuditLog.renderedHistory(
                        of: story.id, before: before, limit: 100, maximumBytes: bytes, database: newsroom.database,
                        logger: newsroom.logger)
                    #expect(rendered.count == page.events.count && rendered.nextCursor == page.next.map { String($0) })
                    seen += page.events.map(\.id)
                    before = page.next
                    pages += 1
                } while before != nil && pages < 20
                #expect(seen == all.events.map(\.id), "at \(bytes) bytes")
                var query: [Int64] = []
                var cursor: AuditQuery.Cursor?
                repeat {
                    let page = try await AuditQuery(story: story.id).page(
                        after: cursor, maximumBytes: bytes, database: newsroom.database, logger: newsroom.logger)
                    query += page.events.map(\.id)
                    cursor = page.next
                } while cursor != nil && query.count < 20
                #expect(query == all.events.map(\.id), "at \(bytes) bytes")
            }
        }
    }

    @Test func filtersAndCursorsAsTypedAreCheckedBeforeAnyQuery() throws {
        let query = try AuditQuery.parsing(
            story: "6F2C0E52-5B8B-4F53-9B0E-0A3C3C6D8E11", actor: "ed", action: nil, source: .cli,
            since: "2026-11-01T00:00:00Z", until: "2026-11-02T00:00:00.5+01:00", requestID: nil)
        #expect(query.story == UUID(uuidString: "6f2c0e52-5b8b-4f53-9b0e-0a3c3c6d8e11"))
        #expect(query.since == Date(timeIntervalSince1970: 1_793_491_200))
        #expect(query.until == Date(timeIntervalSince1970: 1_793_491_200 + 82_800.5))
        for (story, since) in [("almaty", nil), (nil, "yesterday"), (nil, "2026-02-30T00:00:00Z")] as [(String?, String?)] {
            #expect(throws: WiredeskError.self) {
                try AuditQuery.parsing(
                    story: story, actor: nil, action: nil, source: nil, since: since, until: nil, requestID: nil)
            }
        }
        for token in ["", "1", "-1", "1-0", "1-01", "1-", "a-1", "123456789012345678-1", "1-2-3"] {
            #expect(throws: WiredeskError.self, "\(token)") { try AuditQuery.Cursor(token: token) }
        }
        #expect(try AuditQuery.Cursor(token: "1764000000000000-42").token == "1764000000000000-42")
    }

    /// With the default price of a random page read, PostgreSQL read a million-event trail's time
    /// index backwards for a filter on action, through every later event (measured in scripts/bench).
    @Test func sessionsPriceRandomReadsAsMemoryAndSSDDo() async throws {
        try await Newsroom.with { newsroom in
            let rows = try await newsroom.database.rows("SHOW random_page_cost", logger: newsroom.logger)
            #expect(try rows.first?.decode(String.self) == "1.1")
        }
    }

    @Test func onlyAuditorsAndAdminsMayQueryTheWholeTrail() throws {
        for role in Role.allCases {
            let principal = Principal(name: "x", role: role, source: .api)
            if role == .auditor || role == .admin {
                try AuditQuery.authorize(principal)
            } else {
                #expect(throws: WiredeskError.self) { try AuditQuery.authorize(principal) }
            }
        }
    }
}
