import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

@Suite struct AuditTrailTests {
    @Test func everyChangeIsRecordedWithWhoWhenWhereAndWhy() async throws {
        try await Newsroom.with { newsroom in
            let viaAPI = Principal(name: "ed", role: .editor, source: .api, requestID: "req-7f3a")
            let story = try await newsroom.story()
            let edited = try await newsroom.stories.edit(
                story.id, patch: .object(["standfirst": .string("Dozens killed, 2,000 arrested")]), ifVersion: 1,
                by: viaAPI, logger: newsroom.logger)
            _ = try await newsroom.stories.transition(
                story.id, .spike, reason: "Duplicate of the 0900 lead", ifVersion: edited.version, by: newsroom.editor,
                logger: newsroom.logger)

            let events = try await newsroom.events(of: story.id)
            #expect(events.map(\.action) == ["create", "edit", "spike"])

            let create = events[0]
            #expect(create.actor == "rita")
            #expect(create.actorRole == .reporter)
            #expect(create.source == .cli)
            #expect(create.toState == .draft)
            #expect(create.version == 1)
            #expect(create.diff?.contains { $0.field == "headline" && $0.from == nil } == true)

            let edit = events[1]
            #expect(edit.source == .api)
            #expect(edit.requestId == "req-7f3a")
            #expect(
                edit.diff == [FieldChange(field: "standfirst", from: nil, to: .string("Dozens killed, 2,000 arrested"))]
            )
            #expect(edit.version == 2)

            let spike = events[2]
            #expect(spike.fromState == .draft)
            #expect(spike.toState == .spiked)
            #expect(spike.reason == "Duplicate of the 0900 lead")
            #expect(spike.diff == nil)
            #expect(events.allSatisfy { $0.storyId == story.id })
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.at <= $1.at })
        }
    }

    @Test func revisionsKeepAFullSnapshotPerContentChange() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let edited = try await newsroom.stories.edit(
                story.id, patch: .object(["headline": .string("Kazakhstan unrest: Russian troops arrive")]),
                ifVersion: 1,
                by: newsroom.editor, logger: newsroom.logger)
            _ = try await newsroom.stories.transition(
                story.id, .submit, ifVersion: 2, by: newsroom.editor, logger: newsroom.logger)

            let revisions = try await Revisions.list(of: story.id, database: newsroom.database, logger: newsroom.logger)
            #expect(revisions.map(\.number) == [1, 2])  // the submit changed no content
            #expect(revisions[0].content == story.content)
            #expect(revisions[1].content == edited.content)
            #expect(revisions[1].diff.map(\.field) == ["headline"])
            let diff = try await Revisions.diff(
                1, 2, of: story.id, database: newsroom.database, logger: newsroom.logger)
            #expect(diff == revisions[1].diff)
            await #expect(throws: WiredeskError.self) {
                try await Revisions.revision(3, of: story.id, database: newsroom.database, logger: newsroom.logger)
            }
        }
    }

    /// The triggers hold even for the owner of the tables (the app role is refused before them,
    /// see PrivilegeTests).
    @Test(arguments: ["audit_events", "revisions", "audit_seals"])
    func theDatabaseRefusesToRewriteHistory(_ table: String) async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            // Sealing waits for older transactions anywhere on the server (other tests) to end.
            while table == "audit_seals", try await newsroom.count("SELECT count(*) FROM audit_seals") == 0 {
                try await AuditChain.seal(database: newsroom.database, logger: newsroom.logger)
                try await Task.sleep(for: .milliseconds(50))
            }
            let before = try await newsroom.count(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
            #expect(before > 0)
            let (column, value) =
                table == "audit_events" ? ("reason", "'rewritten'")
                : table == "audit_seals" ? ("sealed_at", "now()") : ("created_by", "'rewritten'")
            for sql in [
                "UPDATE \(table) SET \(column) = \(value)",
                "UPDATE \(table) SET \(column) = \(value) WHERE false",
                "DELETE FROM \(table)",
                table == "audit_seals" ? "DELETE FROM audit_seals WHERE seq = 1" : "DELETE FROM \(table) WHERE story_id = '\(story.id)'",
                "TRUNCATE \(table) CASCADE",
            ] {
                let error = try await #require(throws: PSQLError.self, "\(sql)") {
                    try await TestDatabase.withClient(try TestDatabase.ownerURL(newsroom.url), maximumConnections: 1) {
                        try await $0.query(PostgresQuery(unsafeSQL: sql), logger: newsroom.logger)
                    }
                }
                #expect(error.serverInfo?[.message]?.contains("append-only") == true, "\(sql)")
            }
            #expect(try await newsroom.count(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")) == before)
            #expect(
                try await newsroom.count(
                    "SELECT count(*) FROM audit_events WHERE reason = 'rewritten' OR actor = 'rewritten'") == 0)
        }
    }

    @Test func aStoryWithHistoryCannotBeDeleted() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            await #expect(throws: PSQLError.self) {
                try await newsroom.client.query("DELETE FROM stories WHERE id = \(story.id)", logger: newsroom.logger)
            }
            #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger) == story)
        }
    }

    @Test func userAndTokenChangesAreAudited() async throws {
        try await Newsroom.with { newsroom in
            let (_, token) = try await newsroom.users.createToken(
                for: "pat", by: newsroom.admin, logger: newsroom.logger)
            _ = try await newsroom.users.revokeToken(token.id, by: newsroom.admin, logger: newsroom.logger)
            _ = try await newsroom.users.disable("ravi", by: UserStore.console, logger: newsroom.logger)
            let events = try await AuditLog.events(database: newsroom.database, logger: newsroom.logger)
            let admin = events.filter { $0.storyId == nil }
            #expect(
                admin.map(\.action) == Array(repeating: "user.add", count: newsroom.everyone.count) + [
                    "token.create", "token.revoke", "user.disable",
                ])
            #expect(admin[0].actor == "console")
            #expect(admin[0].subject == "rita")
            #expect(admin[0].reason == "role reporter")
            let users = newsroom.everyone.count
            #expect(admin[users].actor == "ada")
            #expect(admin[users].subject == token.id.uuidString.lowercased())
            #expect(admin[users].reason == "for pat")
            #expect(admin[users + 2].subject == "ravi")
        }
    }
}

/// No answer grows without bound with a story's history or size: pages are capped in items and
/// in bytes, and revisions are listed as summaries.
@Suite struct BoundedAnswerTests {
    @Test func revisionsAreListedAsSummariesAPageAtATime() async throws {
        try await Newsroom.with { newsroom in
            var story = try await newsroom.story()
            for i in 1...5 {
                story = try await newsroom.stories.edit(
                    story.id, patch: .object(["standfirst": .string("Edit \(i)")]), ifVersion: story.version,
                    by: newsroom.reporter, logger: newsroom.logger)
            }
            let first = try await Revisions.summaries(of: story.id, limit: 4, database: newsroom.database, logger: newsroom.logger)
            #expect(first.revisions.map(\.number) == [1, 2, 3, 4])
            #expect(first.next == 4)
            #expect(first.revisions[1].changedFields == ["standfirst"])
            #expect(first.revisions[0].changedFields.contains("body"))
            let second = try await Revisions.summaries(
                of: story.id, after: 4, limit: 4, database: newsroom.database, logger: newsroom.logger)
            #expect(second.revisions.map(\.number) == [5, 6])
            #expect(second.next == nil)
            await #expect(throws: WiredeskError.self) {
                try await Revisions.summaries(of: UUID(), database: newsroom.database, logger: newsroom.logger)
            }
            await #expect(throws: WiredeskError.self) {
                try await Revisions.summaries(of: story.id, limit: 100_000, database: newsroom.database, logger: newsroom.logger)
            }
        }
    }

    @Test func historyAndListPagesStopBeforeTheirBytesRunAway() async throws {
        try await Newsroom.with { newsroom in
            // Each edit rewrites about 100 KB of body: each event's diff carries it twice.
            var content = try Newsroom.almaty()
            var story = try await newsroom.story(content)
            for i in 0..<6 {
                content.body = (0..<5).map { _ in BodyBlock(.paragraph, String(repeating: "\(i)", count: 10_000)) }
                story = try await newsroom.stories.edit(
                    story.id, patch: .object(["body": try JSONValue(encoding: content.body)]), ifVersion: story.version,
                    by: newsroom.reporter, logger: newsroom.logger)
            }
            var pages = 0
            var seen: [Int64] = []
            var before: Int64?
            repeat {
                let page = try await AuditLog.history(
                    of: story.id, before: before, limit: 500, maximumBytes: 250_000, database: newsroom.database,
                    logger: newsroom.logger)
                #expect(!page.events.isEmpty)
                seen += page.events.map(\.id)
                before = page.next
                pages += 1
            } while before != nil
            #expect(pages >= 3)
            #expect(seen.count == 7)
            #expect(seen == seen.sorted(by: >))

            for _ in 0..<3 { _ = try await newsroom.story(content) }
            let listed = try await StoryPages.pages(
                full: true, maximumBytes: 60_000, database: newsroom.database, logger: newsroom.logger)
            #expect(listed.joined().count == 4)
            #expect(listed.count == 4)
        }
    }
}
