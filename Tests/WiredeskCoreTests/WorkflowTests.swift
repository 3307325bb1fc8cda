import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// Every row of the workflow table, and every refusal, against PostgreSQL.
@Suite struct WorkflowTests {
    /// The transitions that bring a new draft into each state.
    static let pathTo: [StoryState: [Transition]] = [
        .draft: [],
        .inReview: [.submit],
        .approved: [.submit, .approve],
        .published: [.submit, .approve, .publish],
        .spiked: [.spike],
        .killed: [.submit, .approve, .publish, .kill],
    ]

    /// What a transition needs to pass its requirements.
    static func arguments(for transition: Transition) -> (reason: String?, patch: JSONValue?) {
        switch transition {
        case .requestChanges: ("Needs a second source", nil)
        case .reopen: ("The police figures changed overnight", nil)
        case .correct: ("Corrects the number of arrests", .object(["standfirst": .string("More than 2,000 arrested")]))
        case .kill: ("Legal: withdraw", nil)
        default: (nil, nil)
        }
    }

    // MARK: The table, row by row

    @Test(arguments: Transition.allCases)
    func eachTransitionMovesFromEachAllowedStateForEachAllowedRole(_ transition: Transition) async throws {
        let rule = try #require(Workflow.rules[transition])
        try await Newsroom.with { newsroom in
            for from in rule.from {
                for role in rule.roles.union([.admin]) {
                    let actor = newsroom.everyone.first { $0.role == role }!
                    let story = try await newsroom.story(through: Self.pathTo[from]!)
                    let (reason, patch) = Self.arguments(for: transition)
                    let moved = try await newsroom.stories.transition(
                        story.id, transition, reason: reason, patch: patch, ifVersion: story.version, by: actor,
                        logger: newsroom.logger)
                    #expect(moved.state == rule.to, "\(transition) from \(from) by \(role)")
                    #expect(moved.version == story.version + 1)
                    #expect(moved.updatedBy == actor.name)

                    let event = try #require(try await newsroom.events(of: story.id).last)
                    #expect(event.action == transition.rawValue)
                    #expect(event.fromState == from)
                    #expect(event.toState == rule.to)
                    #expect(event.actor == actor.name)
                    #expect(event.actorRole == role)
                    #expect(event.version == moved.version)
                    #expect(event.reason == reason)
                }
            }
        }
    }

    @Test(arguments: Transition.allCases)
    func eachTransitionIsRefusedFromEveryOtherState(_ transition: Transition) async throws {
        let rule = try #require(Workflow.rules[transition])
        try await Newsroom.with { newsroom in
            for state in StoryState.allCases where !rule.from.contains(state) {
                let story = try await newsroom.story(through: Self.pathTo[state]!)
                let (reason, patch) = Self.arguments(for: transition)
                try await expectRefusal(newsroom, story, rule: "\(transition.rawValue).state", kind: .invalidTransition) {
                    try await newsroom.stories.transition(
                        story.id, transition, reason: reason, patch: patch, ifVersion: story.version,
                        by: newsroom.admin,
                        logger: newsroom.logger)
                }
            }
        }
    }

    @Test(arguments: Transition.allCases)
    func eachTransitionIsRefusedForEveryOtherRole(_ transition: Transition) async throws {
        let rule = try #require(Workflow.rules[transition])
        try await Newsroom.with { newsroom in
            let from = rule.from.sorted { $0.rawValue < $1.rawValue }.first!
            for actor in newsroom.everyone where actor.role != .admin && !rule.roles.contains(actor.role) {
                let story = try await newsroom.story(through: Self.pathTo[from]!)
                let (reason, patch) = Self.arguments(for: transition)
                try await expectRefusal(newsroom, story, rule: "\(transition.rawValue).role", kind: .forbidden) {
                    try await newsroom.stories.transition(
                        story.id, transition, reason: reason, patch: patch, ifVersion: story.version, by: actor,
                        logger: newsroom.logger)
                }
            }
        }
    }

    /// A story too large to be decided on an event loop (`StoryStore.inlineBytes`) moves through
    /// the workflow as a small one does, its requirements checked on the worker threads.
    @Test func aLargeStoryMovesThroughTheWorkflow() async throws {
        try await Newsroom.with { newsroom in
            var content = try Newsroom.almaty()
            content.body += Array(repeating: BodyBlock(.paragraph, String(repeating: "Almaty. ", count: 128)), count: 80)
            let large = try await newsroom.story(content, through: [.submit, .approve, .publish])
            #expect(try JSONCoding.encode(large.content).count > StoryStore.inlineBytes)
            #expect(large.state == .published && large.version == 4)
            #expect(try await newsroom.events(of: large.id).map(\.action) == ["create", "submit", "approve", "publish"])
            var headless = content
            headless.headline = nil
            let refused = try await newsroom.story(headless)
            try await expectRefusal(newsroom, refused, rule: "submit.headline", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    refused.id, .submit, ifVersion: 1, by: newsroom.reporter, logger: newsroom.logger)
            }
        }
    }

    // MARK: Requirements

    @Test func submitNeedsAHeadlineAndBodyText() async throws {
        try await Newsroom.with { newsroom in
            var noHeadline = try Newsroom.almaty()
            noHeadline.headline = nil
            let a = try await newsroom.story(noHeadline)
            try await expectRefusal(newsroom, a, rule: "submit.headline", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    a.id, .submit, ifVersion: 1, by: newsroom.reporter, logger: newsroom.logger)
            }
            var onlyCrossheads = try Newsroom.almaty()
            onlyCrossheads.body = [BodyBlock(.crosshead, "A CROSSHEAD")]
            let b = try await newsroom.story(onlyCrossheads)
            try await expectRefusal(newsroom, b, rule: "submit.body", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    b.id, .submit, ifVersion: 1, by: newsroom.reporter, logger: newsroom.logger)
            }
        }
    }

    @Test func reportersSubmitOnlyTheirOwnDrafts() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(by: newsroom.reporter)
            try await expectRefusal(newsroom, story, rule: "submit.own-drafts", kind: .forbidden) {
                try await newsroom.stories.transition(
                    story.id, .submit, ifVersion: 1, by: newsroom.otherReporter, logger: newsroom.logger)
            }
        }
    }

    @Test func requestChangesNeedsAReason() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit])
            for reason in [nil, "", "   "] as [String?] {
                try await expectRefusal(newsroom, story, rule: "request_changes.reason", kind: .unmetRequirement) {
                    try await newsroom.stories.transition(
                        story.id, .requestChanges, reason: reason, ifVersion: story.version, by: newsroom.editor,
                        logger: newsroom.logger)
                }
            }
        }
    }

    @Test func approveNeedsABylineOrSourceCredit() async throws {
        try await Newsroom.with { newsroom in
            var uncredited = try Newsroom.almaty()
            uncredited.source = nil
            let story = try await newsroom.story(uncredited, through: [.submit])
            try await expectRefusal(newsroom, story, rule: "approve.credit", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    story.id, .approve, ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            }
            var bylined = uncredited
            bylined.bylines = [Byline(name: "Olzhas Auyezov", title: "Reuters correspondent")]
            let ok = try await newsroom.story(bylined, through: [.submit, .approve])
            #expect(ok.state == .approved)
        }
    }

    @Test func approveNeedsACaptionAndCreditOnEveryPicture() async throws {
        try await Newsroom.with { newsroom in
            for missing in ["caption", "creditline"] {
                var content = try Newsroom.almaty()
                content.pictures.append(Picture(caption: "Troops in Almaty", creditline: "REUTERS/Pavel Mikheyev"))
                if missing == "caption" {
                    content.pictures[1].caption = nil
                } else {
                    content.pictures[1].creditline = nil
                }
                let story = try await newsroom.story(content, through: [.submit])
                let error = try await expectRefusal(
                    newsroom, story, rule: "approve.picture-credit", kind: .unmetRequirement
                ) {
                    try await newsroom.stories.transition(
                        story.id, .approve, ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
                }
                #expect(error.message.contains("picture 2 has no \(missing)"))
            }
        }
    }

    @Test func publishIsRefusedBeforeTheEmbargoAndAllowedAfter() async throws {
        try await Newsroom.with { newsroom in
            var embargoed = try Newsroom.almaty()
            embargoed.embargo = Date().addingTimeInterval(3600)
            let story = try await newsroom.story(embargoed, through: [.submit, .approve])
            let error = try await expectRefusal(newsroom, story, rule: "publish.embargo", kind: .embargo) {
                try await newsroom.stories.transition(
                    story.id, .publish, ifVersion: story.version, by: newsroom.publisher, logger: newsroom.logger)
            }
            #expect(error.message.contains("embargoed until"))

            var lifted = try Newsroom.almaty()
            lifted.embargo = Date().addingTimeInterval(-60)
            let published = try await newsroom.story(lifted, through: [.submit, .approve, .publish])
            #expect(published.state == .published)
            #expect(published.publishedAt != nil)
        }
    }

    @Test func anAdminMayPublishBeforeTheEmbargoSayingWhy() async throws {
        try await Newsroom.with { newsroom in
            var embargoed = try Newsroom.almaty()
            embargoed.embargo = Date().addingTimeInterval(3600)
            let story = try await newsroom.story(embargoed, through: [.submit, .approve])
            // Without a reason, or by anyone else, the embargo holds.
            try await expectRefusal(newsroom, story, rule: "publish.embargo", kind: .embargo) {
                try await newsroom.stories.transition(
                    story.id, .publish, ifVersion: story.version, by: newsroom.admin, logger: newsroom.logger)
            }
            for principal in [newsroom.editor, newsroom.publisher] {
                let error = try await expectRefusal(newsroom, story, rule: "publish.embargo", kind: .embargo) {
                    try await newsroom.stories.transition(
                        story.id, .publish, reason: "The court lifted the order", ifVersion: story.version, by: principal,
                        logger: newsroom.logger)
                }
                #expect(error.message.contains("admin may override it with a reason"))
            }
            let published = try await newsroom.stories.transition(
                story.id, .publish, reason: "The court lifted the order", ifVersion: story.version, by: newsroom.admin,
                logger: newsroom.logger)
            #expect(published.state == .published)
            #expect(published.content.embargo == nil)
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.action == "publish")
            #expect(event.actor == newsroom.admin.name)
            #expect(event.reason == "The court lifted the order")
            #expect(event.diff?.contains { $0.field == "embargo" } == true, "\(String(describing: event.diff))")
        }
    }

    @Test func correctNeedsANoteAndAContentChangeAndStaysPublished() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            let patch = JSONValue.object(["standfirst": .string("At least 18 security officers died")])
            try await expectRefusal(newsroom, story, rule: "correct.correction-note", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    story.id, .correct, patch: patch, ifVersion: story.version, by: newsroom.editor,
                    logger: newsroom.logger)
            }
            for unchanged in [nil, JSONValue.object(["headline": .string(story.content.headline!)])] {
                try await expectRefusal(newsroom, story, rule: "correct.content-change", kind: .unmetRequirement) {
                    try await newsroom.stories.transition(
                        story.id, .correct, reason: "Fixes a typo", patch: unchanged, ifVersion: story.version,
                        by: newsroom.editor, logger: newsroom.logger)
                }
            }
            let corrected = try await newsroom.stories.transition(
                story.id, .correct, reason: "Corrects the death toll", patch: patch, ifVersion: story.version,
                by: newsroom.editor, logger: newsroom.logger)
            #expect(corrected.state == .published)
            #expect(corrected.version == story.version + 1)
            #expect(corrected.content.standfirst == "At least 18 security officers died")
            #expect(corrected.publishedAt == story.publishedAt)
            #expect(corrected.corrections.map(\.note) == ["Corrects the death toll"])
            #expect(corrected.corrections.first?.version == corrected.version)
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.diff?.map(\.field) == ["standfirst"])
            let revisions = try await Revisions.list(of: story.id, database: newsroom.database, logger: newsroom.logger)
            #expect(revisions.last?.content.standfirst == "At least 18 security officers died")
            #expect(revisions.last?.version == corrected.version)
        }
    }

    @Test func aCorrectionKeepsWhatApprovalAskedOfTheCopy() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            #expect(story.content.bylines.isEmpty && story.content.source == "Reuters")
            let cases: [(JSONValue, String)] = [
                // The Almaty story's only credit is its source: a correction may not take it away.
                (.object(["source": .null]), "correct.credit"),
                (
                    .object([
                        "pictures": .array([
                            .object(["caption": .string("Protesters in Almaty"), "uri": .string("https://example.com/p.jpg")])
                        ])
                    ]), "correct.picture-credit"
                ),
                (.object(["headline": .null]), "correct.headline"),
            ]
            for (patch, rule) in cases {
                try await expectRefusal(newsroom, story, rule: rule, kind: .unmetRequirement) {
                    try await newsroom.stories.transition(
                        story.id, .correct, reason: "Corrects the credit", patch: patch, ifVersion: story.version,
                        by: newsroom.editor, logger: newsroom.logger)
                }
            }
            // Replacing the credit is a correction like any other.
            let corrected = try await newsroom.stories.transition(
                story.id, .correct, reason: "Adds the reporter",
                patch: .object(["source": .null, "bylines": .array([.object(["name": .string("Olzhas Auyezov")])])]),
                ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            #expect(corrected.content.bylines.map(\.name) == ["Olzhas Auyezov"])
        }
    }

    @Test func aContentPatchRidesOnlyOnACorrection() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let error = try await expectRefusal(newsroom, story, rule: nil, kind: .validation) {
                try await newsroom.stories.transition(
                    story.id, .submit, patch: .object(["headline": .string("x")]), ifVersion: 1, by: newsroom.reporter,
                    logger: newsroom.logger)
            }
            #expect(error.fields.first?.field == "patch")
        }
    }

    @Test func killNeedsAKillNoticeWhichIsKept() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            try await expectRefusal(newsroom, story, rule: "kill.kill-notice", kind: .unmetRequirement) {
                try await newsroom.stories.transition(
                    story.id, .kill, ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            }
            let killed = try await newsroom.stories.transition(
                story.id, .kill, reason: "Legal: withdraw this story", ifVersion: story.version, by: newsroom.editor,
                logger: newsroom.logger)
            #expect(killed.state == .killed)
            #expect(killed.killNotice == "Legal: withdraw this story")
        }
    }

    // MARK: Editing

    @Test func reportersEditOnlyTheirOwnDrafts() async throws {
        try await Newsroom.with { newsroom in
            let patch = JSONValue.object(["standfirst": .string("Updated")])
            let story = try await newsroom.story(by: newsroom.reporter)
            let edited = try await newsroom.stories.edit(
                story.id, patch: patch, ifVersion: 1, by: newsroom.reporter, logger: newsroom.logger)
            #expect(edited.content.standfirst == "Updated")
            #expect(edited.version == 2)

            try await expectRefusal(newsroom, edited, rule: "edit.own-drafts", kind: .forbidden) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["standfirst": .string("Mine now")]), ifVersion: 2,
                    by: newsroom.otherReporter,
                    logger: newsroom.logger)
            }
            let submitted = try await newsroom.stories.transition(
                story.id, .submit, ifVersion: 2, by: newsroom.reporter, logger: newsroom.logger)
            try await expectRefusal(newsroom, submitted, rule: "edit.role", kind: .forbidden) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["standfirst": .string("Sneaky")]), ifVersion: 3, by: newsroom.reporter,
                    logger: newsroom.logger)
            }
        }
    }

    @Test func editingApprovedCopySendsItBackToReview() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve])
            let edited = try await newsroom.stories.edit(
                story.id, patch: .object(["headline": .string("Russian paratroopers land in Kazakhstan")]),
                ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            #expect(edited.state == .inReview)
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.action == "edit")
            #expect(event.fromState == .approved)
            #expect(event.toState == .inReview)
            #expect(event.diff?.map(\.field) == ["headline"])
        }
    }

    @Test(arguments: [StoryState.published, .spiked, .killed])
    func storiesInFinalOrLiveStatesCannotBeEdited(_ state: StoryState) async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: Self.pathTo[state]!)
            let error = try await expectRefusal(newsroom, story, rule: "edit.state", kind: .invalidTransition) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["standfirst": .string("x")]), ifVersion: story.version,
                    by: newsroom.admin,
                    logger: newsroom.logger)
            }
            if state == .published { #expect(error.message.contains("correct")) }
        }
    }

    /// The editor's note on published copy changes without a correction: no reader sees it, and
    /// the feed says nothing. Anything a reader would see still needs `correct`.
    @Test func theEditorsNoteOnPublishedCopyChangesWithoutACorrection() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit, .approve, .publish])
            let entries = try await newsroom.count("SELECT count(*) FROM feed_entries")
            let edited = try await newsroom.stories.edit(
                story.id, patch: .object(["ednote": .string("Follow-up from Almaty at 18:00")]),
                ifVersion: story.version, by: newsroom.editor, logger: newsroom.logger)
            #expect(edited.state == .published)
            #expect(edited.version == story.version + 1)
            #expect(edited.content.ednote == "Follow-up from Almaty at 18:00")
            let event = try #require(try await newsroom.events(of: story.id).last)
            #expect(event.action == "edit")
            #expect(event.diff?.map(\.field) == ["ednote"])
            #expect(try await newsroom.count("SELECT count(*) FROM feed_entries") == entries)

            // Reporters do not edit published copy at all; a note and a visible change together need `correct`.
            try await expectRefusal(newsroom, edited, rule: "edit.role", kind: .forbidden) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["ednote": .string("mine")]), ifVersion: edited.version,
                    by: newsroom.reporter, logger: newsroom.logger)
            }
            try await expectRefusal(newsroom, edited, rule: "edit.state", kind: .invalidTransition) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["ednote": .string("x"), "standfirst": .string("y")]),
                    ifVersion: edited.version, by: newsroom.editor, logger: newsroom.logger)
            }
        }
    }

    @Test func everyoneButSubscribersReadsTheDesk() async throws {
        try await Newsroom.with { newsroom in
            for principal in newsroom.everyone {
                if principal.role == .subscriber {
                    let error = #expect(throws: WiredeskError.self) { try Workflow.checkRead(by: principal) }
                    #expect(error?.rule == "read.role")
                    #expect(throws: WiredeskError.self) { try Workflow.checkCreate(by: principal) }
                    #expect(throws: WiredeskError.self) { try Workflow.checkIngest(by: principal) }
                    try FeedStore.authorize(principal)
                } else {
                    try Workflow.checkRead(by: principal)
                }
            }
        }
    }

    @Test func publishersAndAuditorsDoNotEdit() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            for actor in [newsroom.publisher, newsroom.auditor] {
                try await expectRefusal(newsroom, story, rule: "edit.role", kind: .forbidden) {
                    try await newsroom.stories.edit(
                        story.id, patch: .object(["standfirst": .string("x")]), ifVersion: 1, by: actor,
                        logger: newsroom.logger)
                }
            }
        }
    }

    @Test func onlyReportersEditorsAndAdminsCreate() async throws {
        try await Newsroom.with { newsroom in
            for actor in newsroom.everyone {
                let allowed = [Role.reporter, .editor, .admin].contains(actor.role)
                do {
                    _ = try await newsroom.stories.create(try Newsroom.almaty(), by: actor, logger: newsroom.logger)
                    #expect(allowed, "\(actor.role) created a story")
                } catch let error as WiredeskError {
                    #expect(!allowed, "\(actor.role): \(error)")
                    #expect(error.rule == "create.role")
                }
            }
            #expect(try await newsroom.count("SELECT count(*) FROM stories") == 4)
            #expect(try await newsroom.count("SELECT count(*) FROM audit_events WHERE action = 'create'") == 4)
        }
    }

    @Test func anEditThatChangesNothingWritesNothing() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let same = try await newsroom.stories.edit(
                story.id, patch: .object(["headline": .string(story.content.headline!)]), ifVersion: 1,
                by: newsroom.editor,
                logger: newsroom.logger)
            #expect(same == story)
            #expect(try await newsroom.events(of: story.id).count == 1)
        }
    }

    @Test func invalidEditsAreRefusedWithTheFieldAndChangeNothing() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            let error = try await expectRefusal(newsroom, story, rule: nil, kind: .validation) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["headline": .string(String(repeating: "x", count: 301))]), ifVersion: 1,
                    by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(error.fields.first?.field == "headline")
        }
    }

    // MARK: Versions

    @Test func aStaleVersionIsRefusedWithTheCurrentOneAndChangesNothing() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(through: [.submit])
            let error = try await expectRefusal(newsroom, story, rule: nil, kind: .conflict) {
                try await newsroom.stories.transition(
                    story.id, .approve, ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(error.currentVersion == 2)
            try await expectRefusal(newsroom, story, rule: nil, kind: .conflict) {
                try await newsroom.stories.edit(
                    story.id, patch: .object(["standfirst": .string("x")]), ifVersion: 3, by: newsroom.editor,
                    logger: newsroom.logger)
            }
        }
    }

    @Test func unknownStoriesAreNotFound() async throws {
        try await Newsroom.with { newsroom in
            let id = UUID()
            let error = try await #require(throws: WiredeskError.self) {
                try await newsroom.stories.transition(
                    id, .submit, ifVersion: 1, by: newsroom.editor, logger: newsroom.logger)
            }
            #expect(error.kind == .notFound)
            await #expect(throws: WiredeskError.self) { try await newsroom.stories.story(id, logger: newsroom.logger) }
        }
    }

    // MARK: Helpers

    /// Expects `change` to be refused by `rule` and to leave the story, its revisions and the audit
    /// trail exactly as they were.
    @discardableResult
    func expectRefusal(
        _ newsroom: Newsroom, _ story: Story, rule: String?, kind: WiredeskError.Kind,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ change: () async throws -> Story
    ) async throws -> WiredeskError {
        let eventsBefore = try await newsroom.count("SELECT count(*) FROM audit_events")
        let revisionsBefore = try await newsroom.count("SELECT count(*) FROM revisions")
        let entriesBefore = try await newsroom.count("SELECT count(*) FROM feed_entries")
        let error = try await #require(throws: WiredeskError.self, sourceLocation: sourceLocation) {
            _ = try await change()
        }
        #expect(error.kind == kind, sourceLocation: sourceLocation)
        if let rule { #expect(error.rule == rule, "\(error)", sourceLocation: sourceLocation) }
        #expect(
            try await newsroom.stories.story(story.id, logger: newsroom.logger) == story, sourceLocation: sourceLocation
        )
        #expect(
            try await newsroom.count("SELECT count(*) FROM audit_events") == eventsBefore,
            sourceLocation: sourceLocation)
        #expect(
            try await newsroom.count("SELECT count(*) FROM revisions") == revisionsBefore,
            sourceLocation: sourceLocation)
        // Nothing reaches the feed either: an embargoed story is not news before it is published.
        #expect(
            try await newsroom.count("SELECT count(*) FROM feed_entries") == entriesBefore,
            sourceLocation: sourceLocation)
        return error
    }
}
