import Foundation
import PostgresNIO
import Synchronization
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// Desk passwords, sessions and sign-in throttling, against PostgreSQL.
@Suite struct DeskSessionTests {
    static let address = "192.0.2.7"

    @Test func aPasswordIsStoredAsABcryptHashAndSignsIn() async throws {
        try await Newsroom.with { newsroom in
            try await newsroom.users.setPassword(of: "rita", to: "correct horse battery", by: newsroom.admin, logger: newsroom.logger)
            let stored = try await newsroom.client.query("SELECT password_hash FROM users WHERE name = 'rita'")
                .collect().first?.decode(String?.self)
            let hash = try #require(stored ?? nil)
            #expect(hash.hasPrefix("$2b$\(String(format: "%02d", UserStore.bcryptCost))$"))
            #expect(!hash.contains("correct horse"))

            let sessions = SessionStore(database: newsroom.database)
            let (token, session) = try await sessions.signIn(
                name: "rita", password: "correct horse battery", address: Self.address, logger: newsroom.logger)
            #expect(session.principal.name == "rita" && session.principal.role == .reporter && session.principal.source == .desk)
            #expect(try await sessions.session(token, logger: newsroom.logger) == session)
            // Only the token's hash is kept.
            #expect(try await newsroom.count("SELECT count(*) FROM desk_sessions WHERE token_hash = sha256(\(token)::bytea)") == 1)
            #expect(try await newsroom.events(subject: "rita").contains { $0.action == "user.passwd" })
        }
    }

    @Test func wrongPasswordsUnknownNamesAndUsersWithoutOneAreTheSameRefusal() async throws {
        try await Newsroom.with { newsroom in
            try await newsroom.users.setPassword(of: "rita", to: "correct horse battery", by: newsroom.admin, logger: newsroom.logger)
            let sessions = SessionStore(database: newsroom.database)
            for (name, password) in [("rita", "wrong horse battery"), ("nobody", "correct horse battery"), ("ed", "anything at all")] {
                let error = await #expect(throws: WiredeskError.self) {
                    try await sessions.signIn(name: name, password: password, address: Self.address, logger: newsroom.logger)
                }
                #expect(error?.kind == .unauthenticated)
                #expect(error?.message == "wrong user name or password")
            }
            #expect(try await newsroom.count("SELECT count(*) FROM desk_sessions") == 0)
        }
    }

    @Test func passwordsAreCheckedForLengthAndSetByAdminsOnly() async throws {
        try await Newsroom.with { newsroom in
            for bad in ["short", String(repeating: "x", count: 73), "line\nbreak here"] {
                let error = await #expect(throws: WiredeskError.self) {
                    try await newsroom.users.setPassword(of: "rita", to: bad, by: newsroom.admin, logger: newsroom.logger)
                }
                #expect(error?.kind == .validation)
            }
            let error = await #expect(throws: WiredeskError.self) {
                try await newsroom.users.setPassword(of: "rita", to: "long enough now", by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(error?.rule == "admin.role")
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.setPassword(of: "ghost", to: "long enough now", by: newsroom.admin, logger: newsroom.logger)
            }
            let withPasswords = try await newsroom.count("SELECT count(*) FROM users WHERE password_hash IS NOT NULL")
            #expect(withPasswords == 0)
        }
    }

    @Test func disablingAUserOrChangingTheirPasswordEndsTheirSessions() async throws {
        try await Newsroom.with { newsroom in
            let sessions = SessionStore(database: newsroom.database)
            try await newsroom.users.setPassword(of: "ed", to: "first password", by: newsroom.admin, logger: newsroom.logger)
            try await newsroom.users.setPassword(of: "rita", to: "rita's password", by: newsroom.admin, logger: newsroom.logger)
            let ed = try await sessions.signIn(name: "ed", password: "first password", address: Self.address, logger: newsroom.logger)
            let rita = try await sessions.signIn(name: "rita", password: "rita's password", address: Self.address, logger: newsroom.logger)

            try await newsroom.users.setPassword(of: "ed", to: "second password", by: newsroom.admin, logger: newsroom.logger)
            #expect(try await sessions.session(ed.token, logger: newsroom.logger) == nil)
            #expect(try await sessions.session(rita.token, logger: newsroom.logger) != nil)

            _ = try await newsroom.users.disable("rita", by: newsroom.admin, logger: newsroom.logger)
            #expect(try await sessions.session(rita.token, logger: newsroom.logger) == nil)
            // Enabled again, the old session stays ended, and the password still needs a new sign-in.
            _ = try await newsroom.users.enable("rita", by: newsroom.admin, logger: newsroom.logger)
            #expect(try await sessions.session(rita.token, logger: newsroom.logger) == nil)
        }
    }

    @Test func signOutEndsTheSessionAndTokensSignInAsTheirUser() async throws {
        try await Newsroom.with { newsroom in
            let sessions = SessionStore(database: newsroom.database)
            let apiToken = try await newsroom.users.createToken(for: "pat", by: newsroom.admin, logger: newsroom.logger).token
            let (token, session) = try await sessions.signIn(token: apiToken, address: Self.address, logger: newsroom.logger)
            #expect(session.principal.name == "pat" && session.principal.role == .publisher)
            try await sessions.signOut(token, by: session.principal, logger: newsroom.logger)
            #expect(try await sessions.session(token, logger: newsroom.logger) == nil)
            #expect(try await sessions.session("not a token", logger: newsroom.logger) == nil)
            let actions = try await newsroom.client.query("SELECT action FROM audit_events WHERE actor = 'pat' ORDER BY id")
                .collect().map { try $0.decode(String.self) }
            #expect(actions == ["signin", "signout"])
        }
    }

    /// bcrypt has a thread of its own: a burst of sign-ins does not queue the story writes that
    /// prepare their statements off the event loops (within the ingest's transaction, too) behind
    /// a second of hashing. (On the shared threads, the create below came after every hash.)
    @Test func passwordHashesDoNotHoldUpStoryWrites() async throws {
        try await Newsroom.with { newsroom in
            final class Count: Sendable { let value = Atomic<Int>(0) }
            let hashed = Count()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        // The work factor a server uses, whatever the suite's.
                        try await newsroom.users.setPassword(
                            of: "ed", to: "a burst of passwords", cost: 12, by: newsroom.admin, logger: newsroom.logger)
                        hashed.value.add(1, ordering: .relaxed)
                    }
                }
                // Once the hashes are queued, a story is written.
                try await Task.sleep(for: .milliseconds(100))
                _ = try await newsroom.story()
                let done = hashed.value.load(ordering: .relaxed)
                #expect(done < 8, "the create waited for \(done) password hashes")
                try await group.waitForAll()
            }
        }
    }

    /// The throttle answers before a hash is computed: once an account is over its limit, even the
    /// right password is refused, and the refusal says when to come back.
    @Test func guessesAreThrottledPerAccountBeforeAnyHashAndAuditedInAggregate() async throws {
        try await Newsroom.with { newsroom in
            try await newsroom.users.setPassword(of: "ed", to: "the right one", by: newsroom.admin, logger: newsroom.logger)
            let sessions = SessionStore(database: newsroom.database, limits: SignInLimits(perAddress: 100, perAccount: 4))
            for attempt in 1...4 {
                let error = await #expect(throws: WiredeskError.self) {
                    try await sessions.signIn(
                        name: "ed", password: "guess \(attempt)", address: "198.51.100.\(attempt)", logger: newsroom.logger)
                }
                #expect(error?.kind == .unauthenticated)
            }
            let throttled = await #expect(throws: WiredeskError.self) {
                try await sessions.signIn(name: "ed", password: "the right one", address: Self.address, logger: newsroom.logger)
            }
            #expect(throttled?.kind == .throttled)
            #expect(throttled?.rule == "signin.throttle")
            #expect((1...900).contains(throttled?.retryAfter ?? 0))
            // Four failures: the first, and the one that reached the limit; not one event a guess.
            let events = try await newsroom.events(subject: "ed").filter { $0.action.hasPrefix("signin") }
            #expect(events.map(\.action) == ["signin.fail", "signin.fail"], "\(events)")
            #expect(events.last?.reason?.contains("4 failed sign-ins") == true)
        }
    }

    @Test func anAddressIsThrottledAcrossAccountsAndASuccessClearsAnAccount() async throws {
        try await Newsroom.with { newsroom in
            try await newsroom.users.setPassword(of: "ed", to: "the right one", by: newsroom.admin, logger: newsroom.logger)
            let sessions = SessionStore(database: newsroom.database, limits: SignInLimits(perAddress: 5, perAccount: 3))
            // Two failures, then a success: ed's count starts again.
            for _ in 1...2 {
                _ = try? await sessions.signIn(name: "ed", password: "nope nope", address: Self.address, logger: newsroom.logger)
            }
            _ = try await sessions.signIn(name: "ed", password: "the right one", address: Self.address, logger: newsroom.logger)
            for _ in 1...2 {
                _ = try? await sessions.signIn(name: "ed", password: "nope nope", address: Self.address, logger: newsroom.logger)
            }
            _ = try await sessions.signIn(name: "ed", password: "the right one", address: Self.address, logger: newsroom.logger)
            // The address: five attempts at five names, then even a right password is refused.
            for name in ["a1", "a2", "a3"] {
                _ = try? await sessions.signIn(name: name, password: "whatever it is", address: Self.address, logger: newsroom.logger)
            }
            let error = await #expect(throws: WiredeskError.self) {
                try await sessions.signIn(name: "ed", password: "the right one", address: Self.address, logger: newsroom.logger)
            }
            #expect(error?.kind == .throttled)
            // Another address is not held up.
            _ = try await sessions.signIn(name: "ed", password: "the right one", address: "203.0.113.9", logger: newsroom.logger)
        }
    }
}

@Suite struct DeskCommentTests {
    @Test func commentsAreKeptInOrderAuditedAndWrittenOnce() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let comments = CommentStore(database: newsroom.database)
            _ = try await comments.add("  Check the casualty figures.  ", to: story.id, by: newsroom.editor, logger: newsroom.logger)
            _ = try await comments.add("Checked with the ministry.", to: story.id, by: newsroom.reporter, logger: newsroom.logger)
            let listed = try await comments.comments(of: story.id, logger: newsroom.logger)
            #expect(listed.map(\.text) == ["Check the casualty figures.", "Checked with the ministry."])
            #expect(listed.map(\.author) == ["ed", "rita"])
            let events = try await newsroom.events(subject: "story \(story.id.uuidString.lowercased())")
            #expect(events.map(\.action) == ["comment", "comment"])
            // A comment is not a version of the story.
            #expect(try await newsroom.stories.story(story.id, logger: newsroom.logger).version == story.version)

            for (text, principal) in [("   ", newsroom.editor), ("ok", newsroom.auditor), (String(repeating: "x", count: 4001), newsroom.editor)] {
                await #expect(throws: WiredeskError.self) {
                    try await comments.add(text, to: story.id, by: principal, logger: newsroom.logger)
                }
            }
            let missing = await #expect(throws: WiredeskError.self) {
                try await comments.add("hello", to: UUID(), by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(missing?.kind == .notFound)
            #expect(try await newsroom.count("SELECT count(*) FROM story_comments") == 2)
        }
    }

    @Test func theAppRoleCannotChangeOrRemoveAComment() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            _ = try await CommentStore(database: newsroom.database).add(
                "First.", to: story.id, by: newsroom.editor, logger: newsroom.logger)
            for statement in ["UPDATE story_comments SET body = 'forged'", "DELETE FROM story_comments"] {
                await #expect(throws: (any Error).self) {
                    try await newsroom.client.query(PostgresQuery(unsafeSQL: statement))
                }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM story_comments WHERE body = 'First.'") == 1)
        }
    }

    @Test func presenceListsEveryoneElseWithTheStoryOpen() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let presence = PresenceStore(database: newsroom.database)
            #expect(try await presence.here(story.id, by: newsroom.editor, logger: newsroom.logger) == [])
            #expect(try await presence.here(story.id, by: newsroom.reporter, logger: newsroom.logger) == ["ed"])
            #expect(try await presence.here(story.id, by: newsroom.editor, logger: newsroom.logger) == ["rita"])
            let other = try await newsroom.story()
            #expect(try await presence.here(other.id, by: newsroom.publisher, logger: newsroom.logger) == [])
        }
    }
}
