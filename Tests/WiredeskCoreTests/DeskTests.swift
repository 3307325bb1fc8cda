import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Desks, assignment and the routes ingest sends new agency copy by.
@Suite struct DeskTests {
    static func desks(_ newsroom: Newsroom) async throws -> DeskStore {
        let desks = DeskStore(database: newsroom.database)
        for (name, title) in [("world", "World"), ("business", "Business")] {
            _ = try await desks.add(name, title: title, by: newsroom.admin, logger: newsroom.logger)
        }
        return desks
    }

    @Test func adminsManageDesksAndRoutesAudited() async throws {
        try await Newsroom.with { newsroom in
            let desks = try await Self.desks(newsroom)
            #expect(try await desks.desks(logger: newsroom.logger).map(\.name) == ["business", "world"])
            let taken = try await #require(throws: WiredeskError.self) {
                try await desks.add("world", title: "Again", by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(taken.kind == .conflict)
            let editor = try await #require(throws: WiredeskError.self) {
                try await desks.add("sports", title: "Sports", by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(editor.kind == .forbidden && editor.rule == "admin.role")
            for (name, title) in [("Sports", "Sports"), ("sp orts", "Sports"), ("sports", " "), ("sports", "a\nb")] {
                let bad = try await #require(throws: WiredeskError.self) {
                    try await desks.add(name, title: title, by: newsroom.admin, logger: newsroom.logger)
                }
                #expect(bad.kind == .validation, "\(name) \(title)")
            }
            let route = try await desks.addRoute(
                desk: "world", field: .source, value: "Reuters", by: newsroom.admin, logger: newsroom.logger)
            let twice = try await #require(throws: WiredeskError.self) {
                try await desks.addRoute(desk: "business", field: .source, value: "REUTERS", by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(twice.kind == .conflict)
            let nowhere = try await #require(throws: WiredeskError.self) {
                try await desks.addRoute(desk: "nowhere", field: .keyword, value: "x", by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(nowhere.kind == .validation && nowhere.fields.first?.field == "desk")
            try await desks.removeRoute(route.id, by: newsroom.admin, logger: newsroom.logger)
            #expect(try await desks.routes(logger: newsroom.logger).isEmpty)
            let gone = try await #require(throws: WiredeskError.self) {
                try await desks.removeRoute(route.id, by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(gone.kind == .notFound)
            #expect(try await newsroom.events(subject: "desk world").map(\.action) == ["desk.add"])
            #expect(
                try await newsroom.events(subject: "desk route \(route.id)").map(\.action)
                    == ["desk.route.add", "desk.route.remove"])
        }
    }

    @Test func ingestRoutesNewCopyByAgencyOrKeyword() async throws {
        try await Newsroom.with { newsroom in
            let desks = try await Self.desks(newsroom)
            let ingest = IngestService(database: newsroom.database)
            func take(_ item: String, splitTeasers: Bool = false) async throws -> IngestOutcome {
                try await ingest.ingest(
                    Data(item.utf8), format: .ninjs, splitTeasers: splitTeasers, by: newsroom.feed, logger: newsroom.logger)
            }
            func ninjs(_ uri: String, source: String, keywords: [String] = []) -> String {
                // ninjs carries keywords as subjects with a name alone.
                let subjects = keywords.map { #"{"name": "\#($0)"}"# }.joined(separator: ",")
                return """
                    {"uri": "\(uri)", "headline": "Talks in Almaty", "body_text": "Talks went on.",
                     "copyrightholder": "\(source)", "subject": [\(subjects)], "subjects": [\(subjects)]}
                    """
            }
            // No rules: no desk.
            let before = try await take(ninjs("urn:test:1", source: "Reuters"))
            #expect(try await newsroom.stories.story(before.storyId, logger: newsroom.logger).desk == nil)

            let byKeyword = try await desks.addRoute(
                desk: "business", field: .keyword, value: "oil", by: newsroom.admin, logger: newsroom.logger)
            let bySource = try await desks.addRoute(
                desk: "world", field: .source, value: "reuters", by: newsroom.admin, logger: newsroom.logger)
            let wire = try await ingest.ingest(
                try TestDatabase.fixture("reuters-almaty-2022-01-07.txt"), format: .wireText, splitTeasers: true,
                by: newsroom.feed, logger: newsroom.logger)
            let story = try await newsroom.stories.story(wire.storyId, logger: newsroom.logger)
            #expect(story.desk == "world")
            #expect(story.content.source == "Reuters")
            // The page's teasers go where the page goes.
            #expect(!wire.teaserStoryIds.isEmpty)
            for teaser in wire.teaserStoryIds {
                #expect(try await newsroom.stories.story(teaser, logger: newsroom.logger).desk == "world")
            }
            let created = try await newsroom.events(of: story.id).first
            #expect(created?.action == "create")
            #expect(created?.reason?.contains("routed to desk world by rule \(bySource.id) (source reuters)") == true, "\(String(describing: created?.reason))")

            // The first rule that matches wins: the keyword rule was added first.
            let oil = try await take(ninjs("urn:test:2", source: "Reuters", keywords: ["Oil"]))
            let oilStory = try await newsroom.stories.story(oil.storyId, logger: newsroom.logger)
            #expect(oilStory.desk == "business", "\(oilStory.content.keywords) \(oil.warnings)")
            _ = byKeyword
            let other = try await take(ninjs("urn:test:3", source: "AP", keywords: ["sport"]))
            #expect(try await newsroom.stories.story(other.storyId, logger: newsroom.logger).desk == nil)
            // Stories people create are routed by no one.
            #expect(try await newsroom.story().desk == nil)
        }
    }

    @Test func editorsAssignStoriesToDesksAndPeople() async throws {
        try await Newsroom.with { newsroom in
            _ = try await Self.desks(newsroom)
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            let assigned = try await newsroom.stories.assign(
                story.id, Assignment(desk: .set("world"), assignee: .set("rita")), reason: "Kazakhstan desk duty",
                ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            #expect(assigned.desk == "world" && assigned.assignee == "rita" && assigned.version == story.version + 1)
            // The story as read and as sent carries both.
            #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger) == assigned)
            let json = try JSONCoding.decode(
                [String: JSONValue].self,
                from: Data(buffer: try await newsroom.stories.rendered(story.id, logger: newsroom.logger).json))
            #expect(json["desk"] == .string("world") && json["assignee"] == .string("rita"))
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.action == "assign" && event.reason == "Kazakhstan desk duty")
            #expect(event.fromState == .published && event.toState == .published)
            #expect(
                event.diff == [
                    FieldChange(field: "desk", from: nil, to: .string("world")),
                    FieldChange(field: "assignee", from: nil, to: .string("rita")),
                ])
            // No revision: the copy did not change.
            #expect(try await newsroom.count("SELECT count(*) FROM revisions WHERE story_id = \(story.id)") == 1)

            // Clearing one keeps the other; the same again writes nothing.
            let cleared = try await newsroom.stories.assign(
                story.id, Assignment(assignee: .clear), ifVersion: assigned.version, by: newsroom.editor,
                logger: newsroom.logger)
            #expect(cleared.desk == "world" && cleared.assignee == nil)
            _ = try await newsroom.users.disable("pat", by: newsroom.admin, logger: newsroom.logger)
            let events = try await newsroom.count("SELECT count(*) FROM audit_events")
            let same = try await newsroom.stories.assign(
                story.id, Assignment(desk: .set("world"), assignee: .clear), ifVersion: cleared.version,
                by: newsroom.editor, logger: newsroom.logger)
            #expect(same == cleared)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events") == events)

            // Refusals change nothing.
            for (assignment, principal, version, kind, field) in [
                (Assignment(desk: .set("business")), newsroom.reporter, cleared.version, WiredeskError.Kind.forbidden, nil),
                (Assignment(desk: .set("sports")), newsroom.editor, cleared.version, .validation, "desk"),
                (Assignment(assignee: .set("nobody")), newsroom.editor, cleared.version, .validation, "assignee"),
                (Assignment(assignee: .set("aud")), newsroom.editor, cleared.version, .validation, "assignee"),
                (Assignment(assignee: .set("wirebot")), newsroom.editor, cleared.version, .validation, "assignee"),
                (Assignment(assignee: .set("pat")), newsroom.editor, cleared.version, .validation, "assignee"),
                (Assignment(), newsroom.editor, cleared.version, .validation, "desk"),
                (Assignment(desk: .set("business")), newsroom.editor, cleared.version - 1, .conflict, nil),
            ] as [(Assignment, Principal, Int, WiredeskError.Kind, String?)] {
                let error = try await #require(throws: WiredeskError.self) {
                    try await newsroom.stories.assign(
                        story.id, assignment, ifVersion: version, by: principal, logger: newsroom.logger)
                }
                #expect(error.kind == kind, "\(assignment): \(error)")
                if let field { #expect(error.fields.first?.field == field, "\(error)") }
                #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger) == cleared)
                #expect(try await newsroom.count("SELECT count(*) FROM audit_events") == events)
            }
            // The copy is the editor's to change, the desk is not: a patch cannot move it.
            let patch = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["desk": .string("business")]), ifVersion: cleared.version,
                    by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(patch.kind == .malformed)
        }
    }
}
