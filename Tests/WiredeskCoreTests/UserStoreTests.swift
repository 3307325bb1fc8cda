import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

@Suite struct UserStoreTests {
    @Test func tokensAuthenticateUntilRevokedAndOnlyTheirHashIsStored() async throws {
        try await Newsroom.with { newsroom in
            let (token, info) = try await newsroom.users.createToken(
                for: "ed", by: newsroom.admin, logger: newsroom.logger)
            #expect(token.hasPrefix("wd_"))
            #expect(token.count > 40)
            let principal = try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            #expect(principal == Principal(name: "ed", role: .editor, source: .api))

            let pattern = "%\(token.dropFirst(3))%"
            #expect(
                try await newsroom.count(
                    "SELECT count(*) FROM api_tokens WHERE encode(token_hash, 'escape') LIKE \(pattern) OR id::text LIKE \(pattern)"
                ) == 0)
            #expect(
                try await newsroom.count(
                    "SELECT count(*) FROM audit_events WHERE coalesce(reason, '') || coalesce(subject, '') LIKE \(pattern)"
                ) == 0)

            let revoked = try await newsroom.users.revokeToken(info.id, by: newsroom.admin, logger: newsroom.logger)
            #expect(revoked.revokedAt != nil)
            let error = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            }
            #expect(error.kind == .unauthenticated)
        }
    }

    @Test func disabledUsersCannotActAtAll() async throws {
        try await Newsroom.with { newsroom in
            let (token, _) = try await newsroom.users.createToken(
                for: "rita", by: newsroom.admin, logger: newsroom.logger)
            _ = try await newsroom.users.disable("rita", by: newsroom.admin, logger: newsroom.logger)
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
            }
            let error = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.principal(named: "rita", source: .cli, logger: newsroom.logger)
            }
            #expect(error.message == "user rita is disabled")
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.createToken(for: "rita", by: newsroom.admin, logger: newsroom.logger)
            }
            let users = try await newsroom.users.list(logger: newsroom.logger)
            #expect(users.first { $0.name == "rita" }?.disabledAt != nil)
        }
    }

    @Test func badTokensAreRefused() async throws {
        try await Newsroom.with { newsroom in
            for token in ["", "wd_nope", String(repeating: "x", count: 5000)] {
                let error = try await #require(throws: WiredeskError.self) {
                    try await newsroom.users.authenticate(token: token, source: .api, logger: newsroom.logger)
                }
                #expect(error.kind == .unauthenticated)
            }
        }
    }

    @Test func onlyAdminsManageUsersAndNamesAreChecked() async throws {
        try await Newsroom.with { newsroom in
            let forbidden = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.add("mallory", role: .admin, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(forbidden.rule == "admin.role")
            let duplicate = try await #require(throws: WiredeskError.self) {
                try await newsroom.users.add("rita", role: .editor, by: newsroom.admin, logger: newsroom.logger)
            }
            #expect(duplicate.kind == .conflict)
            for name in ["", "Bad Name", "ünïcode", "console", "-dash", String(repeating: "a", count: 65)] {
                let invalid = try await #require(throws: WiredeskError.self, "\(name)") {
                    try await newsroom.users.add(name, role: .editor, by: newsroom.admin, logger: newsroom.logger)
                }
                #expect(invalid.kind == .validation)
            }
            #expect(try await newsroom.users.list(logger: newsroom.logger).count == newsroom.everyone.count)
            await #expect(throws: WiredeskError.self) {
                try await newsroom.users.principal(named: "nobody", source: .cli, logger: newsroom.logger)
            }
        }
    }
}
