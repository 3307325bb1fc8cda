import Foundation
import PostgresNIO
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Many writers on one story, each naming the version it read: no accepted change may be lost,
/// and no refused change may leave a trace.
@Suite struct ConcurrencyTests {
    enum Outcome: Sendable {
        case accepted(marker: String, version: Int)
        case refused(marker: String)
    }

    static let writers = 16
    /// Each writer keeps going until this many of its writes were accepted.
    static let acceptedPerWriter = 3
    static let maximumAttempts = 400

    @Test func concurrentWritersNeverLoseAnUpdate() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for writer in 0..<Self.writers {
                    group.addTask { try await Self.write(as: writer, on: story.id, newsroom) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }

            let accepted = outcomes.compactMap { if case .accepted(let m, let v) = $0 { (m, v) } else { nil } }
            let refused = outcomes.compactMap { if case .refused(let m) = $0 { m } else { nil } }
            #expect(accepted.count == Self.writers * Self.acceptedPerWriter)
            #expect(!refused.isEmpty, "no writer ever raced another")

            // Each accepted write made exactly one version, and together they make the story's history.
            let final = try await newsroom.stories.story(story.id, logger: newsroom.logger)
            #expect(final.version == 1 + accepted.count)
            #expect(accepted.map(\.1).sorted() == Array(2...final.version))

            let events = try await newsroom.events(of: story.id)
            #expect(events.count == 1 + accepted.count)
            #expect(events.dropFirst().map { $0.version! } == Array(2...final.version))
            let revisions = try await Revisions.list(of: story.id, database: newsroom.database, logger: newsroom.logger)

            for (marker, version) in accepted {
                let event = try #require(events.first { $0.version == version })
                if marker.hasPrefix("edit") {
                    #expect(event.diff?.contains { $0.to == .string(marker) } == true, "\(marker)")
                    #expect(revisions.filter { $0.content.standfirst == marker }.map(\.version) == [version])
                } else {
                    #expect(event.reason == marker)
                }
            }
            for marker in refused {
                let pattern = "%\(marker)\"%"
                #expect(
                    try await newsroom.count(
                        "SELECT count(*) FROM audit_events WHERE diff::text LIKE \(pattern) OR reason = \(marker)") == 0
                )
                #expect(
                    try await newsroom.count("SELECT count(*) FROM revisions WHERE content::text LIKE \(pattern)") == 0)
            }
        }
    }

    /// Writers 0-11 edit the standfirst; 12-15 move the story between draft and in_review. Each
    /// reads the story, then writes against the version it read.
    static func write(as writer: Int, on id: UUID, _ newsroom: Newsroom) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var landed = 0
        for attempt in 0..<maximumAttempts where landed < acceptedPerWriter {
            let current = try await newsroom.stories.story(id, logger: newsroom.logger)
            do {
                if writer < 12 {
                    let marker = "edit-w\(writer)-a\(attempt)"
                    let story = try await newsroom.stories.edit(
                        id, patch: .object(["standfirst": .string(marker)]), ifVersion: current.version,
                        by: newsroom.editor, logger: newsroom.logger)
                    outcomes.append(.accepted(marker: marker, version: story.version))
                    landed += 1
                } else {
                    let marker = "move-w\(writer)-a\(attempt)"
                    let transition: Transition = current.state == .draft ? .submit : .requestChanges
                    do {
                        let story = try await newsroom.stories.transition(
                            id, transition, reason: marker, ifVersion: current.version, by: newsroom.editor,
                            logger: newsroom.logger)
                        outcomes.append(.accepted(marker: marker, version: story.version))
                        landed += 1
                    } catch let error as WiredeskError where error.kind != .conflict {
                        Issue.record("unexpected refusal: \(error)")
                        outcomes.append(.refused(marker: marker))
                    }
                }
            } catch let error as WiredeskError where error.kind == .conflict {
                #expect(error.currentVersion ?? 0 > current.version)
                let marker = writer < 12 ? "edit-w\(writer)-a\(attempt)" : "move-w\(writer)-a\(attempt)"
                outcomes.append(.refused(marker: marker))
            }
        }
        return outcomes
    }
}
