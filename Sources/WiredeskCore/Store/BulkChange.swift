import Foundation
import Logging
import PostgresNIO

/// One transition or one assignment applied to many stories: the forty duplicates of a flash
/// spiked, a package approved, a desk's backlog handed to a person. Each story succeeds or fails
/// on its own rules and version, in its own transaction through the one write path; their audit
/// events carry one bulk id. A dry run does every story's work and rolls each back.
public struct BulkChange: Sendable {
    public let stories: StoryStore

    public init(stories: StoryStore) {
        self.stories = stories
    }

    public enum Action: Sendable, Equatable {
        case transition(Transition)
        case assign(Assignment)

        var name: String {
            switch self {
            case .transition(let transition): transition.rawValue
            case .assign: "assign"
            }
        }
    }

    /// A story to change, at the version the caller read; without one, at the version it is at,
    /// under a row lock for the change.
    public struct Target: Sendable, Equatable {
        public var id: UUID
        public var version: Int?

        public init(id: UUID, version: Int? = nil) {
            self.id = id
            self.version = version
        }

        /// `ID` or `ID@VERSION`, as the CLI takes them.
        public init(parsing text: String) throws {
            let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
            guard let id = UUID(uuidString: String(parts[0])) else {
                throw WiredeskError.malformed(field: "ids", "not a story id: \(parts[0])")
            }
            self.id = id
            if parts.count == 2 {
                guard let version = ASCII.number(parts[1].utf8, maxDigits: 9), version >= 1 else {
                    throw WiredeskError.malformed(field: "ids", "not a version: \(parts[1])")
                }
                self.version = Int(version)
            }
        }
    }

    /// Which stories: named, or those a query finds when the change starts.
    public enum Selection: Sendable {
        case stories([Target])
        case query(StoryQuery)
    }

    public struct Outcome: Sendable, Equatable, Encodable {
        public enum Result: String, Sendable, Encodable {
            case applied
            /// What a dry run found would be applied.
            case wouldApply = "would-apply"
            /// Nothing to change: the story already was as asked (an assignment).
            case unchanged
            case refused
            case failed
        }

        public var id: UUID
        public var result: Result
        /// The story's version and state after the change (or as they would be, or are).
        public var version: Int?
        public var state: StoryState?
        /// Why it was refused: the error's kind as problem documents name it, what it said, the rule.
        public var problem: String?
        public var detail: String?
        public var rule: String?
        public var currentVersion: Int?
    }

    public struct Report: Sendable, Encodable {
        public var bulkId: UUID
        public var action: String
        public var dryRun: Bool
        public var outcomes: [Outcome]
    }

    /// The most stories a call changes unless the server is told otherwise (`serve --bulk-max`).
    public static let defaultMaximum = 500
    public static let maximums = 1...10_000

    public func apply(
        _ action: Action, to selection: Selection, reason: String? = nil, dryRun: Bool = false,
        maximum: Int = BulkChange.defaultMaximum, by principal: Principal, logger: Logger
    ) async throws -> Report {
        let reason = try StoryStore.reason(reason)
        // Whoever may not change one story this way may not change many: refused before anything is read.
        switch action {
        case .transition(let transition): try Workflow.checkRole(for: transition, by: principal)
        case .assign(let assignment):
            try assignment.checkNotEmpty()
            try Workflow.checkAssign(by: principal)
        }
        let targets: [Target]
        switch selection {
        case .stories(let named):
            guard !named.isEmpty else { throw WiredeskError.invalid(field: "ids", "name at least one story") }
            guard named.count <= maximum else {
                throw WiredeskError.invalid(field: "ids", "at most \(maximum) stories per call; \(named.count) were named")
            }
            guard Set(named.map(\.id)).count == named.count else {
                throw WiredeskError.invalid(field: "ids", "a story is named twice")
            }
            targets = named
        case .query(let query):
            let ids = try await StorySearch(database: stories.database).ids(query, maximum: maximum, logger: logger)
            guard ids.count <= maximum else {
                throw WiredeskError.invalid(
                    field: "query", "more than \(maximum) stories match; narrow the query or name the stories")
            }
            targets = ids.map { Target(id: $0) }
        }
        var acting = principal
        acting.bulkID = UUID.random()
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(targets.count)
        for target in targets {
            outcomes.append(await change(target, action, reason: reason, dryRun: dryRun, by: acting, logger: logger))
        }
        return Report(bulkId: acting.bulkID!, action: action.name, dryRun: dryRun, outcomes: outcomes)
    }

    /// A dry run's unit of work ends here, rolled back, with what it would have done.
    private struct DryRun: Error {
        var outcome: Outcome
    }

    private func change(
        _ target: Target, _ action: Action, reason: String?, dryRun: Bool, by principal: Principal, logger: Logger
    ) async -> Outcome {
        let stories = self.stories
        let database = stories.database
        do {
            return try await database.unitOfWork(logger: logger) {
                var version = target.version
                if version == nil {
                    let held = try await database.rows(
                        "SELECT version FROM stories WHERE id = \(target.id) FOR UPDATE", logger: logger)
                    guard let current = try held.first?.decode(Int.self) else {
                        throw WiredeskError.storyNotFound(target.id)
                    }
                    version = current
                }
                let before = version!
                let story =
                    switch action {
                    case .transition(let transition):
                        try await stories.transition(
                            target.id, transition, reason: reason, ifVersion: before, by: principal, logger: logger)
                    case .assign(let assignment):
                        try await stories.assign(
                            target.id, assignment, reason: reason, ifVersion: before, by: principal, logger: logger)
                    }
                let result: Outcome.Result =
                    story.version == before ? .unchanged : dryRun ? .wouldApply : .applied
                let outcome = Outcome(id: target.id, result: result, version: story.version, state: story.state)
                if dryRun { throw DryRun(outcome: outcome) }
                return outcome
            }
        } catch let dry as DryRun {
            return dry.outcome
        } catch let error as WiredeskError where error.kind != .unavailable {
            return Outcome(
                id: target.id, result: .refused, problem: error.problemKind, detail: error.message, rule: error.rule,
                currentVersion: error.currentVersion)
        } catch {
            logger.warning("a bulk change failed for a story", metadata: ["story.id": "\(target.id)", "error": "\(error)"])
            return Outcome(
                id: target.id, result: .failed, problem: (error as? WiredeskError)?.problemKind ?? "internal",
                detail: (error as? WiredeskError)?.message ?? "internal error")
        }
    }
}
