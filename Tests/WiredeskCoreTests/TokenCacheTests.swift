import Foundation
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// Verified tokens kept by a server for half a second at most, and never past their expiry: what
/// an admin changes anywhere holds on every server within that time.
@Suite struct TokenCacheTests {
    let hash = UserStore.hash("wd_token")
    let start = ContinuousClock.now

    @Test func anEntryAnswersForItsLifetimeFromBeforeTheCheck() {
        let cache = TokenCache(lifetime: .milliseconds(500))
        cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: nil, checked: start, now: start)
        let kept = cache.principal(hash: hash, source: .api, at: start + .milliseconds(499))
        #expect(kept?.name == "ed")
        #expect(kept?.role == .editor)
        #expect(kept?.source == .api)
        #expect(cache.principal(hash: hash, source: .api, at: start + .milliseconds(500)) == nil)
        #expect(cache.principal(hash: UserStore.hash("wd_other"), source: .api, at: start) == nil)
    }

    @Test func anEntryEndsWithItsTokensExpiry() {
        let cache = TokenCache(lifetime: .milliseconds(500))
        cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: 0.2, checked: start, now: start)
        #expect(cache.principal(hash: hash, source: .api, at: start + .milliseconds(199)) != nil)
        #expect(cache.principal(hash: hash, source: .api, at: start + .milliseconds(200)) == nil)

        // A token with years left, or PostgreSQL's infinity, is bounded by the lifetime.
        for left in [86_400.0 * 365, .infinity] {
            cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: left, checked: start, now: start)
            #expect(cache.principal(hash: hash, source: .api, at: start + .milliseconds(499)) != nil)
            #expect(cache.principal(hash: hash, source: .api, at: start + .milliseconds(500)) == nil)
        }
    }

    /// A check that took longer than the lifetime, or than the token had left, keeps nothing.
    @Test func anAnswerAlreadyTooOldIsNotKept() {
        let cache = TokenCache(lifetime: .milliseconds(500))
        cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: nil, checked: start, now: start + .seconds(1))
        cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: 0.01, checked: start, now: start + .milliseconds(20))
        #expect(cache.count == 0)
    }

    @Test func aFullCacheDropsWhatExpiredFirstAndThenEverything() {
        let cache = TokenCache(lifetime: .milliseconds(500))
        for n in 0..<TokenCache.maximumEntries {
            let secondsLeft = n == 0 ? 0.1 : nil
            cache.keep(
                hash: UserStore.hash("wd_\(n)"), name: "u\(n)", role: .reporter, secondsLeft: secondsLeft, checked: start,
                now: start)
        }
        #expect(cache.count == TokenCache.maximumEntries)
        let later = start + .milliseconds(200)
        cache.keep(hash: hash, name: "ed", role: .editor, secondsLeft: nil, checked: later, now: later)
        #expect(cache.count == TokenCache.maximumEntries)
        #expect(cache.principal(hash: UserStore.hash("wd_0"), source: .api, at: later) == nil)
        #expect(cache.principal(hash: UserStore.hash("wd_1"), source: .api, at: later)?.name == "u1")

        // Nothing left to expire: it starts over with the newcomer.
        cache.keep(hash: UserStore.hash("wd_new"), name: "new", role: .editor, secondsLeft: nil, checked: later, now: later)
        #expect(cache.count == 1)
        #expect(cache.principal(hash: UserStore.hash("wd_new"), source: .api, at: later)?.name == "new")
    }

    /// Through the database: a kept token is answered without a query (a minute's lifetime here,
    /// so that a slow query cannot outlast it).
    @Test func aKeptTokenIsAnsweredWithoutTheDatabase() async throws {
        try await Newsroom.with { newsroom in
            let (token, info) = try await newsroom.users.createToken(for: "ed", by: newsroom.admin, logger: newsroom.logger)
            let cache = TokenCache(lifetime: .seconds(60))
            let users = UserStore(database: newsroom.database, tokens: cache)
            #expect(try await users.authenticate(token: token, source: .api, logger: newsroom.logger).name == "ed")
            #expect(cache.count == 1)
            _ = try await newsroom.users.revokeToken(info.id, by: newsroom.admin, logger: newsroom.logger)
            #expect(try await users.authenticate(token: token, source: .cli, logger: newsroom.logger).source == .cli)
            let unknown = await #expect(throws: WiredeskError.self) {
                try await users.authenticate(token: "wd_unknown", source: .api, logger: newsroom.logger)
            }
            #expect(unknown?.kind == .unauthenticated)
            #expect(cache.count == 1)
        }
    }

    /// Through the database: a revocation, a new role or a disabled user, made by another
    /// process, holds within a second.
    @Test func whatAnAdminChangesHoldsWithinASecond() async throws {
        try await Newsroom.with { newsroom in
            let (token, info) = try await newsroom.users.createToken(for: "rita", by: newsroom.admin, logger: newsroom.logger)
            let cache = TokenCache()
            let users = UserStore(database: newsroom.database, tokens: cache)
            func principal() async throws -> Principal {
                try await users.authenticate(token: token, source: .api, logger: newsroom.logger)
            }

            #expect(try await principal().role == .reporter)
            _ = try await newsroom.users.changeRole(of: "rita", to: .editor, by: newsroom.admin, logger: newsroom.logger)
            try await eventually("the new role") { try await principal().role == .editor }

            _ = try await newsroom.users.disable("rita", by: newsroom.admin, logger: newsroom.logger)
            try await eventually("disabling") { await Self.refused(principal) }
            _ = try await newsroom.users.enable("rita", by: newsroom.admin, logger: newsroom.logger)
            try await eventually("enabling") { !(await Self.refused(principal)) }

            _ = try await newsroom.users.revokeToken(info.id, by: newsroom.admin, logger: newsroom.logger)
            try await eventually("the revocation") { await Self.refused(principal) }
        }
    }

    private static func refused(_ principal: () async throws -> Principal) async -> Bool {
        do {
            _ = try await principal()
            return false
        } catch {
            return (error as? WiredeskError)?.kind == .unauthenticated
        }
    }
}
