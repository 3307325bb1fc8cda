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

    @Test(arguments: ["audit_events", "revisions"])
    func theDatabaseRefusesToRewriteHistory(_ table: String) async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let before = try await newsroom.count(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
            #expect(before > 0)
            let column = table == "audit_events" ? "reason" : "created_by"
            for sql in [
                "UPDATE \(table) SET \(column) = 'rewritten'",
                "UPDATE \(table) SET \(column) = 'rewritten' WHERE false",
                "DELETE FROM \(table)",
                "DELETE FROM \(table) WHERE story_id = '\(story.id)'",
                "TRUNCATE \(table) CASCADE",
            ] {
                let error = try await #require(throws: PSQLError.self, "\(sql)") {
                    try await newsroom.client.query(PostgresQuery(unsafeSQL: sql), logger: newsroom.logger)
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
