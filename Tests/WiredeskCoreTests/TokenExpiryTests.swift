import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Tokens with a lifetime: refused once the database's clock passes their expiry.
@Suite struct TokenExpiryTests {
    @Test func aTokenPastItsExpiryIsRefused() async throws {
        try await Newsroom.with { newsroom in
            let (token, info) = try await newsroom.users.createToken(
                for: "ed", expiresIn: .seconds(90 * 86_400), by: newsroom.admin, logger: newsroom.logger)
            let expiresAt = try #require(info.expiresAt)
            #expect(abs(expiresAt.timeIntervalSince(info.createdAt) - 90 * 86_400) < 1)
            #expect(try await newsroom.users.tokens(of: "ed", logger: newsroom.logger).map(\.expiresAt) == [expiresAt])
            let created = try #require(try await UserAdminTests.userEvents(newsroom).last)
            #expect(created.action == "token.create")
            #expect(created.reason == "for ed, expires \(JSONCoding.formatDate(expiresAt))")
            #expect(try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger).name == "ed")

            // Time passes: api_tokens is not append-only, so the test may move the expiry.
            try await newsroom.client.query(
                "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = \(info.id)",
                logger: newsroom.logger)
            let error = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            }
            #expect(error.kind == .unauthenticated)
            #expect(error.message == "the token is unknown, revoked, expired, or its user is disabled")

            // A token without an expiry still works: expiry is per token.
            let (forever, plain) = try await newsroom.users.createToken(
                for: "ed", by: newsroom.admin, logger: newsroom.logger)
            #expect(plain.expiresAt == nil)
            #expect(try await newsroom.users.authenticate(token: forever, source: .api, logger: newsroom.logger).name == "ed")
        }
    }

    @Test func aLifetimeOutOfBoundsMakesNoToken() async throws {
        try await Newsroom.with { newsroom in
            for lifetime in [Duration.zero, .seconds(-60), .seconds(3651 * 86_400)] {
                let error = try await #require(throws: WiredeskError.self, "\(lifetime)") {
                    try await newsroom.users.createToken(
                        for: "ed", expiresIn: lifetime, by: newsroom.admin, logger: newsroom.logger)
                }
                #expect(error.kind == .validation)
            }
            #expect(try await newsroom.count("SELECT count(*) FROM api_tokens") == 0)
            #expect(try await UserAdminTests.userEvents(newsroom).allSatisfy { $0.action == "user.add" })
        }
    }

    @Test func lifetimesAreWholeHoursDaysOrWeeks() throws {
        #expect(try TokenLifetime.parse("90d") == .seconds(90 * 86_400))
        #expect(try TokenLifetime.parse("12h") == .seconds(12 * 3_600))
        #expect(try TokenLifetime.parse("2w") == .seconds(14 * 86_400))
        #expect(try TokenLifetime.parse("3650d") == .seconds(3650 * 86_400))
        for text in ["", "d", "90", "5x", "-1d", "1.5d", "90D", " 90d", "٩٠d", "9999999999d"] {
            let error = try #require(throws: WiredeskError.self, "\(text)") { try TokenLifetime.parse(text) }
            #expect(error.kind == .malformed, "\(text)")
        }
        for text in ["0d", "0h", "3651d", "99999d", "522w"] {
            let error = try #require(throws: WiredeskError.self, "\(text)") { try TokenLifetime.parse(text) }
            #expect(error.kind == .validation, "\(text)")
        }
    }
}
