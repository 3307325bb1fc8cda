import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Role changes and re-enabling: each one audited, each one in force from the next request.
@Suite struct UserAdminTests {
    @Test func aRoleChangeIsAuditedAndHoldsForTheUsersTokensAtOnce() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(
                for: "rita", by: newsroom.admin, logger: newsroom.logger)
            let story = try await newsroom.story(by: newsroom.otherReporter, through: [.submit])
            let asReporter = try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            await #expect(throws: WiredeskError.self) {
                try await newsroom.stories.transition(
                    story.id, .approve, ifVersion: story.version, by: asReporter, logger: newsroom.logger)
            }

            let (user, changed) = try await newsroom.users.changeRole(
                of: "rita", to: .editor, by: newsroom.admin, logger: newsroom.logger)
            #expect(changed)
            #expect(user.role == .editor)
            let event = try #require(try await Self.userEvents(newsroom).last)
            #expect(event.action == "user.role")
            #expect(event.actor == "ada")
            #expect(event.actorRole == .admin)
            #expect(event.subject == "rita")
            #expect(event.reason == "reporter → editor")

            // The same token, the next request: it acts as an editor now.
            let asEditor = try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            #expect(asEditor.role == .editor)
            let approved = try await newsroom.stories.transition(
                story.id, .approve, ifVersion: story.version, by: asEditor, logger: newsroom.logger)
            #expect(approved.state == .approved)
        }
    }

    @Test func theSameRoleAgainWritesNothing() async throws {
        try await Newsroom.with { newsroom in
            let before = try await newsroom.count("SELECT count(*) FROM audit_events")
            let (user, changed) = try await newsroom.users.changeRole(
                of: "ed", to: .editor, by: newsroom.admin, logger: newsroom.logger)
            #expect(!changed)
            #expect(user.role == .editor)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events") == before)
        }
    }

    @Test func onlyAdminsChangeRolesAndUnknownUsersAreNotFound() async throws {
        try await Newsroom.with { newsroom in
            let before = try await newsroom.count("SELECT count(*) FROM audit_events")
            let forbidden = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.changeRole(of: "rita", to: .admin, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(forbidden.kind == .forbidden)
            #expect(forbidden.rule == "admin.role")
            let missing = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.changeRole(of: "nobody", to: .editor, by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(missing.kind == .notFound)
            #expect(missing.message == "no user named nobody")
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events") == before)
            let rita = try await newsroom.users.principal(named: "rita", source: .cli, logger: newsroom.logger)
            #expect(rita.role == .reporter)
        }
    }

    @Test func enablingADisabledUserRevivesTheirTokens() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(
                for: "rita", by: newsroom.admin, logger: newsroom.logger)
            _ = try await newsroom.users.disable("rita", by: newsroom.admin, logger: newsroom.logger)
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            }

            let (user, changed) = try await newsroom.users.enable("rita", by: newsroom.admin, logger: newsroom.logger)
            #expect(changed)
            #expect(user.disabledAt == nil)
            let principal = try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            #expect(principal.name == "rita")

            let (_, again) = try await newsroom.users.enable("rita", by: newsroom.admin, logger: newsroom.logger)
            #expect(!again)
            let events = try await Self.userEvents(newsroom).filter { $0.subject == "rita" }
            #expect(events.map(\.action) == ["user.add", "user.disable", "user.enable"])
            #expect(events.last?.actor == "ada")

            let forbidden = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.enable("rita", by: newsroom.reporter, logger: newsroom.logger)
            }
            #expect(forbidden.rule == "admin.role")
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.enable("nobody", by: newsroom.admin, logger: newsroom.logger)
            }
        }
    }

    /// The user and token events, oldest first.
    static func userEvents(_ newsroom: Newsroom) async throws -> [AuditEvent] {
        try await AuditLog.events(database: newsroom.database, logger: newsroom.logger).filter { $0.storyId == nil }
    }
}
