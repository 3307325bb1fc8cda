import Foundation

public enum StoryState: String, Codable, CaseIterable, Sendable {
    case draft
    case inReview = "in_review"
    case approved, published, spiked, killed
}

public enum Transition: String, Codable, CaseIterable, Sendable {
    case submit
    case requestChanges = "request_changes"
    case approve, reopen, publish, correct, kill, spike, unspike
}

/// What a transition needs besides the right state and role. Each has a name, used in the rule
/// that refuses (`approve.picture-credit`).
public enum Requirement: String, Sendable {
    case headline
    case body
    case reason
    case credit
    case pictureCredit = "picture-credit"
    case embargoLifted = "embargo"
    case contentChange = "content-change"
    case correctionNote = "correction-note"
    case killNotice = "kill-notice"
}

public struct TransitionRule: Sendable {
    public var from: Set<StoryState>
    public var to: StoryState
    public var roles: Set<Role>
    public var requires: [Requirement]
    /// Requirements these roles may set aside by giving a reason, which the trail records.
    public var overrides: [Requirement: Set<Role>] = [:]
}

/// The editorial workflow: the one table every change goes through, from the CLI, the API and
/// ingest alike.
public enum Workflow {
    public static let rules: [Transition: TransitionRule] = [
        .submit: .init(from: [.draft], to: .inReview, roles: [.reporter, .editor], requires: [.headline, .body]),
        .requestChanges: .init(from: [.inReview], to: .draft, roles: [.editor], requires: [.reason]),
        .approve: .init(from: [.inReview], to: .approved, roles: [.editor], requires: [.credit, .pictureCredit]),
        // Taking an approval back before publication: the copy goes back to review, and why is kept.
        .reopen: .init(from: [.approved], to: .inReview, roles: [.editor], requires: [.reason]),
        // An admin may publish before the embargo, saying why (a court ruling, a source released
        // it early); the published copy then carries no embargo.
        .publish: .init(
            from: [.approved], to: .published, roles: [.editor, .publisher], requires: [.embargoLifted],
            overrides: [.embargoLifted: [.admin]]),
        // A correction is held to what approval and submission asked of the copy: it cannot take away
        // the last credit or bring in an uncredited picture.
        .correct: .init(
            from: [.published], to: .published, roles: [.editor],
            requires: [.contentChange, .correctionNote, .headline, .body, .credit, .pictureCredit]),
        .kill: .init(from: [.published], to: .killed, roles: [.editor], requires: [.killNotice]),
        .spike: .init(from: [.draft, .inReview, .approved], to: .spiked, roles: [.editor], requires: []),
        .unspike: .init(from: [.spiked], to: .draft, roles: [.editor], requires: []),
    ]

    /// Who may change content in each state, and the state the story is in afterwards: an
    /// approval is for the text that was read, so editing approved copy sends it back to review.
    /// Published copy changes only through `correct`.
    public static let edits: [StoryState: (roles: Set<Role>, to: StoryState)] = [
        .draft: ([.reporter, .editor], .draft),
        .inReview: ([.editor], .inReview),
        .approved: ([.editor], .inReview),
    ]

    /// Who reads the desk's stories, their history, revisions and sources: everyone but partner
    /// systems, which read the feed (`FeedStore.readers`) and nothing else.
    public static let readers: Set<Role> = Set(Role.allCases).subtracting([.subscriber])

    /// Who may change the desk's internal fields (`StoryContent.sameForReaders`) where the copy
    /// itself is fixed: a note on published copy is not a correction, and readers see no change.
    public static let internalEdits: [StoryState: Set<Role>] = [.published: [.editor]]

    public static let creators: Set<Role> = [.reporter, .editor]

    /// Who may take agency copy in as new drafts: a feed script has the `ingest` role.
    public static let ingesters: Set<Role> = [.reporter, .editor, .ingest]

    /// Who may change a story already in with a newer version of its agency item. A reporter may
    /// file agency copy but not overwrite a story through it.
    public static let wireUpdaters: Set<Role> = [.editor, .ingest]

    /// Who moves stories between desks and people, in any state: where a story sits and who has
    /// it is the desk's bookkeeping, not the copy's.
    public static let assigners: Set<Role> = [.editor]

    /// Who a story may be assigned to: the desk's people, not scripts, auditors or partners.
    public static let assignees: Set<Role> = [.reporter, .editor, .admin]

    /// Who discusses a story in its internal comments: the desk's people.
    public static let commenters: Set<Role> = [.reporter, .editor, .publisher]

    // MARK: Checks

    public static func checkRead(by principal: Principal) throws {
        try checkRole(principal, in: readers, rule: "read.role", doing: "read the desk's stories")
    }

    public static func checkCreate(by principal: Principal) throws {
        try checkRole(principal, in: creators, rule: "create.role", doing: "create stories")
    }

    public static func checkIngest(by principal: Principal) throws {
        try checkRole(principal, in: ingesters, rule: "ingest.role", doing: "take agency copy in")
    }

    public static func checkComment(by principal: Principal) throws {
        try checkRole(principal, in: commenters, rule: "comment.role", doing: "comment on stories")
    }

    /// The transitions `principal` may try on `story` now, as far as state, role and ownership go;
    /// what the copy still lacks is for `check` to say, naming the rule.
    public static func available(to principal: Principal, on story: Story) -> [Transition] {
        Transition.allCases.filter { transition in
            guard rules[transition]!.from.contains(story.state), (try? checkRole(for: transition, by: principal)) != nil
            else { return false }
            guard transition == .submit else { return true }
            return (try? checkOwnDraft(story, by: principal, rule: "", doing: "")) != nil
        }
    }

    /// Whether the transition's rule asks for words from the one making it (a reason, a note).
    public static func asksForReason(_ transition: Transition) -> Bool {
        rules[transition]!.requires.contains { [.reason, .correctionNote, .killNotice].contains($0) }
    }

    /// Whether `principal` may edit the story's copy in its state (published copy: by correcting).
    public static func mayEdit(_ story: Story, by principal: Principal) -> Bool {
        if story.state == .published { return (try? checkRole(for: .correct, by: principal)) != nil }
        guard let edit = edits[story.state] else { return false }
        return (try? checkRole(principal, in: edit.roles, rule: "", doing: "")) != nil
            && (try? checkOwnDraft(story, by: principal, rule: "", doing: "")) != nil
    }

    public static func checkAssign(by principal: Principal) throws {
        try checkRole(principal, in: assigners, rule: "assign.role", doing: "assign stories to desks and people")
    }

    /// A newer agency version of a story already in. It needs the authority to update agency
    /// copy; when its text goes into the story (`applying`), it is an edit like any other and the
    /// story's state must allow one. Returns the state the story is in afterwards.
    public static func checkWireUpdate(_ story: Story, applying: Bool, by principal: Principal) throws -> StoryState {
        try checkRole(principal, in: wireUpdaters, rule: "wire-update.role", doing: "update a story with agency copy")
        guard applying else { return story.state }
        guard let edit = edits[story.state] else {
            throw WiredeskError(
                .invalidTransition, "a \(story.state.rawValue) story cannot be edited", rule: "wire-update.state")
        }
        return edit.to
    }

    /// Returns the state the story moves to when its content is edited to `content`.
    public static func checkEdit(_ story: Story, to content: StoryContent, by principal: Principal) throws -> StoryState {
        if edits[story.state] == nil, let roles = internalEdits[story.state], content.sameForReaders(as: story.content) {
            try checkRole(
                principal, in: roles, rule: "edit.role", doing: "change the internal fields of \(story.state.rawValue) stories")
            return story.state
        }
        guard let edit = edits[story.state] else {
            let hint = story.state == .published ? "; use the correct transition with a correction note" : ""
            throw WiredeskError(
                .invalidTransition, "a \(story.state.rawValue) story cannot be edited\(hint)", rule: "edit.state")
        }
        try checkRole(principal, in: edit.roles, rule: "edit.role", doing: "edit \(story.state.rawValue) stories")
        try checkOwnDraft(story, by: principal, rule: "edit.own-drafts", doing: "edit")
        return edit.to
    }

    /// What a transition is about to produce, for the requirement checks.
    public struct Proposal: Sendable {
        public var story: Story
        public var content: StoryContent
        public var reason: String?
        public var now: Date

        public init(story: Story, content: StoryContent, reason: String?, now: Date) {
            self.story = story
            self.content = content
            self.reason = reason
            self.now = now
        }
    }

    /// Refuses a principal whose role may not make `transition` at all: asked before a batch of
    /// them (publish --approved) as before each one.
    public static func checkRole(for transition: Transition, by principal: Principal) throws {
        try checkRole(principal, in: rules[transition]!.roles, rule: "\(transition.rawValue).role", doing: transition.rawValue)
    }

    /// What the workflow allows: the state the story moves to, and the requirements set aside.
    public struct Decision: Sendable, Equatable {
        public var to: StoryState
        public var overridden: [Requirement] = []
    }

    /// Refuses the transition, naming the rule, unless state, role and requirements all allow it
    /// (a requirement the rule lets the principal's role override is set aside when they give a
    /// reason).
    public static func check(_ transition: Transition, _ proposal: Proposal, by principal: Principal) throws -> Decision {
        let rule = rules[transition]!
        let name = transition.rawValue
        let story = proposal.story
        try checkRole(for: transition, by: principal)
        guard rule.from.contains(story.state) else {
            let allowed = rule.from.map(\.rawValue).sorted().joined(separator: " or ")
            throw WiredeskError(
                .invalidTransition,
                "\(name) is not allowed from \(story.state.rawValue) (only from \(allowed))",
                rule: "\(name).state")
        }
        if transition == .submit {
            try checkOwnDraft(story, by: principal, rule: "submit.own-drafts", doing: "submit")
        }
        var decision = Decision(to: rule.to)
        for requirement in rule.requires {
            if let problem = unmet(requirement, proposal) {
                if let roles = rule.overrides[requirement], roles.contains(principal.role), hasText(proposal.reason) {
                    decision.overridden.append(requirement)
                    continue
                }
                let kind: WiredeskError.Kind = requirement == .embargoLifted ? .embargo : .unmetRequirement
                let override = rule.overrides[requirement].map {
                    "; \($0.map(\.rawValue).sorted().joined(separator: ", ")) may override it with a reason"
                } ?? ""
                throw WiredeskError(
                    kind, "\(name) refused: \(problem)\(override)", rule: "\(name).\(requirement.rawValue)")
            }
        }
        return decision
    }

    /// Why the proposal fails the requirement, or nil when it meets it.
    static func unmet(_ requirement: Requirement, _ p: Proposal) -> String? {
        let content = p.content
        switch requirement {
        case .headline:
            return content.headline == nil ? "the story has no headline" : nil
        case .body:
            return content.body.contains { $0.kind == .paragraph } ? nil : "the story has no body text"
        case .reason:
            return hasText(p.reason) ? nil : "a reason is required"
        case .correctionNote:
            return hasText(p.reason) ? nil : "a correction note is required (the reason)"
        case .killNotice:
            return hasText(p.reason) ? nil : "a kill notice is required (the reason)"
        case .credit:
            return content.bylines.isEmpty && content.source == nil ? "the story needs a byline or a source credit" : nil
        case .pictureCredit:
            guard let i = content.pictures.firstIndex(where: { $0.caption == nil || $0.creditline == nil }) else {
                return nil
            }
            let missing = content.pictures[i].caption == nil ? "caption" : "creditline"
            return "picture \(i + 1) has no \(missing)"
        case .embargoLifted:
            guard let embargo = content.embargo, p.now < embargo else { return nil }
            return "embargoed until \(JSONCoding.formatDate(embargo))"
        case .contentChange:
            return content == p.story.content ? "a correction must change the content" : nil
        }
    }

    private static func hasText(_ text: String?) -> Bool {
        guard let text else { return false }
        return !text.allSatisfy(\.isWhitespace)
    }

    private static func checkRole(_ principal: Principal, in roles: Set<Role>, rule: String, doing what: String) throws {
        guard principal.role == .admin || roles.contains(principal.role) else {
            let allowed = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw WiredeskError(
                .forbidden,
                "\(principal.name) is \(principal.role.rawValue); only \(allowed) or admin may \(what)",
                rule: rule)
        }
    }

    /// Reporters work on their own copy only.
    private static func checkOwnDraft(_ story: Story, by principal: Principal, rule: String, doing what: String) throws {
        guard principal.role == .reporter, story.createdBy != principal.name else { return }
        throw WiredeskError(
            .forbidden, "reporters may \(what) only their own drafts; this one is \(story.createdBy)'s", rule: rule)
    }
}
