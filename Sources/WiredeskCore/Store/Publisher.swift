import Foundation
import Logging
import PostgresNIO

/// Publishes what editors approved, for scripts run from cron: every approved story whose embargo
/// has passed, oldest approval first, each in its own transaction through the one write path.
///
/// Two runs at once, on one machine or two, publish each story once: a story is taken with
/// `FOR UPDATE SKIP LOCKED`, so a story another run holds is passed over, not waited for, and one
/// that run already published is no longer approved. A crash midway leaves each story published
/// (with its revision, feed entry and audit event) or not.
public struct Publisher: Sendable {
    public let stories: StoryStore

    public init(stories: StoryStore) {
        self.stories = stories
    }

    public struct Outcome: Sendable, Equatable, Codable {
        public enum Result: String, Sendable, Codable {
            case published
            /// What a dry run found would be published.
            case wouldPublish = "would-publish"
            case skipped, failed
        }

        public var id: UUID
        public var result: Result
        /// The version published, or that would be.
        public var version: Int?
        /// Why it was skipped or failed.
        public var reason: String?

        public init(id: UUID, result: Result, version: Int? = nil, reason: String? = nil) {
            self.id = id
            self.result = result
            self.version = version
            self.reason = reason
        }
    }

    public static let limits = 1...1000

    /// Publishes up to `limit` approved stories and says what became of each; `dryRun` does
    /// everything but commit.
    public func publishApproved(
        limit: Int = 100, dryRun: Bool = false, by principal: Principal, logger: Logger
    ) async throws -> [Outcome] {
        guard Self.limits.contains(limit) else {
            throw WiredeskError.malformed(field: "limit", "expected 1 to \(Self.limits.upperBound)")
        }
        // Whoever may not publish one story may not publish a batch: refused before anything is read.
        try Workflow.checkRole(for: .publish, by: principal)
        let database = stories.database
        let candidates = try await database.rows(
            """
            SELECT id FROM stories
            WHERE state = 'approved'
              AND (content->>'embargo' IS NULL OR (content->>'embargo')::timestamptz <= now())
            ORDER BY updated_at, id
            LIMIT \(limit)
            """, logger: logger
        ).map { try $0.decode(UUID.self) }

        var outcomes: [Outcome] = []
        for id in candidates {
            outcomes.append(await publish(id, dryRun: dryRun, by: principal, logger: logger))
        }
        return outcomes
    }

    /// A dry run's unit of work ends here, rolled back, with what it would have done.
    private struct DryRun: Error {
        var outcome: Outcome
    }

    private func publish(_ id: UUID, dryRun: Bool, by principal: Principal, logger: Logger) async -> Outcome {
        let database = stories.database
        let stories = self.stories
        do {
            return try await database.unitOfWork(logger: logger) {
                let held = try await database.rows(
                    "SELECT version FROM stories WHERE id = \(id) AND state = 'approved' FOR UPDATE SKIP LOCKED",
                    logger: logger)
                guard let version = try held.first?.decode(Int.self) else {
                    return Outcome(
                        id: id, result: .skipped, reason: "taken by another run, or no longer approved")
                }
                let story = try await stories.transition(
                    id, .publish, ifVersion: version, by: principal, logger: logger)
                if dryRun { throw DryRun(outcome: Outcome(id: id, result: .wouldPublish, version: story.version)) }
                return Outcome(id: id, result: .published, version: story.version)
            }
        } catch let dry as DryRun {
            return dry.outcome
        } catch let error as WiredeskError where error.kind != .unavailable {
            // The workflow's refusal (an embargo the text's own clock still holds, a requirement).
            return Outcome(id: id, result: .skipped, reason: error.message)
        } catch {
            logger.warning("publishing a story failed", metadata: ["story.id": "\(id)", "error": "\(error)"])
            return Outcome(id: id, result: .failed, reason: (error as? WiredeskError)?.message ?? "internal error")
        }
    }
}
