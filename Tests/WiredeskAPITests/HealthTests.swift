import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WiredeskAPI
import WiredeskCore
import WiredeskTestSupport

@Suite struct HealthTests {
    @Test func healthAndReadinessAnswerWithTheDatabaseUp() async throws {
        try await TestDatabase.withMigratedDatabase { _, url in
            let app = buildApplication(ServerSettings(database: url), logger: TestDatabase.logger)
            try await app.test(.router) { client in
                try await client.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
                try await client.execute(uri: "/ready", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}
