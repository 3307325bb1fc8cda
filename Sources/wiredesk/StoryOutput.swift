import Foundation
import NIOCore
import NIOFoundationCompat
import WiredeskCore

/// How stories and events read on a terminal.
enum StoryOutput {
    static func story(_ story: Story, json: Bool) throws {
        if json { return try Console.printJSON(story) }
        print(render(story))
    }

    /// One line of a list from a story's JSON, summary or whole: id, state, version, desk,
    /// assignee, headline; then the words found, when there were words to find.
    static func summary(json: ByteBuffer) throws -> String {
        struct Item: Decodable {
            var id: String
            var state: String
            var version: Int
            var desk: String?
            var assignee: String?
            var headline: String?
            var snippets: [String: String]?
        }
        let item = try JSONDecoder().decode(Item.self, from: Data(buffer: json))
        var line =
            "\(item.id)  \(pad(item.state, 9))  v\(pad("\(item.version)", 4)) \(pad(item.desk ?? "-", 10)) \(pad(item.assignee ?? "-", 10)) \(item.headline ?? "(no headline)")"
        for field in ["standfirst", "lead"] {
            if let text = item.snippets?[field], text.contains("<mark>") { line += "\n    \(field): \(text)" }
        }
        return line
    }

    static func outcome(_ outcome: BulkChange.Outcome) -> String {
        var line = "\(outcome.id.uuidString.lowercased())  \(pad(outcome.result.rawValue, 11))"
        if let version = outcome.version { line += "  v\(version)" }
        if let state = outcome.state { line += " \(state.rawValue)" }
        if let detail = outcome.detail { line += "  \(detail)" }
        if let rule = outcome.rule { line += " [rule \(rule)]" }
        return line
    }

    static func render(_ story: Story) -> String {
        let c = story.content
        var lines: [String] = []
        lines.append(c.headline ?? "(no headline)")
        if let standfirst = c.standfirst { lines.append(standfirst) }
        lines.append("")
        lines.append("id         \(story.id.uuidString.lowercased())")
        lines.append("state      \(story.state.rawValue), version \(story.version)")
        if let desk = story.desk { lines.append("desk       \(desk)") }
        if let assignee = story.assignee { lines.append("assignee   \(assignee)") }
        if let slug = c.slug { lines.append("slug       \(slug)") }
        if let dateline = c.dateline {
            lines.append("dateline   \([dateline.place, dateline.date].compactMap { $0 }.joined(separator: ", "))")
        }
        if let source = c.source { lines.append("source     \(source)") }
        for byline in c.bylines {
            lines.append("byline     \([byline.name, byline.title].compactMap { $0 }.joined(separator: ", "))")
        }
        if let creditline = c.creditline { lines.append("credit     \(creditline)") }
        if let copyright = c.copyright { lines.append("copyright  \(copyright)") }
        if let language = c.language { lines.append("language   \(language)") }
        if let urgency = c.urgency { lines.append("urgency    \(urgency)") }
        if !c.keywords.isEmpty { lines.append("keywords   \(c.keywords.joined(separator: ", "))") }
        if !c.subjects.isEmpty {
            let subjects = c.subjects.map { [$0.name, $0.code.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ") }
            lines.append("subjects   \(subjects.joined(separator: ", "))")
        }
        if let embargo = c.embargo { lines.append("embargo    \(JSONCoding.formatDate(embargo))") }
        if let ednote = c.ednote { lines.append("ednote     \(ednote)") }
        lines.append("created    \(JSONCoding.formatDate(story.createdAt)) by \(story.createdBy)")
        lines.append("updated    \(JSONCoding.formatDate(story.updatedAt)) by \(story.updatedBy)")
        if let publishedAt = story.publishedAt { lines.append("published  \(JSONCoding.formatDate(publishedAt))") }
        for correction in story.corrections {
            lines.append(
                "correction v\(correction.version) \(JSONCoding.formatDate(correction.at)): \(correction.note)")
        }
        if let killNotice = story.killNotice { lines.append("KILLED     \(killNotice)") }
        lines.append("")
        for block in c.body {
            switch block.kind {
            case .paragraph: lines.append(block.text)
            case .crosshead: lines.append("## \(block.text)")
            }
        }
        for (i, picture) in c.pictures.enumerated() {
            lines.append("")
            lines.append("[picture \(i + 1)] \(picture.caption ?? "(no caption)")")
            lines.append("  credit: \(picture.creditline ?? "(none)")")
            if let altText = picture.altText { lines.append("  alt: \(altText)") }
            if let photographer = picture.photographer { lines.append("  photographer: \(photographer)") }
            if let uri = picture.uri { lines.append("  uri: \(uri)") }
            for rendition in picture.renditions { lines.append("  \(rendition.name): \(rendition.href)") }
        }
        if !c.teasers.isEmpty {
            lines.append("")
            lines.append("[\(c.teasers.count) related headlines from the same page]")
            for teaser in c.teasers { lines.append("  • \(teaser.headline)") }
        }
        return lines.joined(separator: "\n")
    }

    static func event(_ e: AuditEvent) -> String {
        var line = "\(JSONCoding.formatDate(e.at))  #\(e.id)"
        if let version = e.version { line += "  v\(version)" }
        line += "  \(pad(e.action, 15)) \(e.actor) (\(e.actorRole.rawValue), \(e.source.rawValue))"
        switch (e.fromState, e.toState) {
        case let (from?, to?) where from != to: line += "  \(from.rawValue) → \(to.rawValue)"
        case let (nil, to?): line += "  → \(to.rawValue)"
        case let (_, to?): line += "  (\(to.rawValue))"
        default: break
        }
        if let subject = e.subject { line += "  [\(subject)]" }
        if let storyId = e.storyId, e.action.hasPrefix("user.") || e.action.hasPrefix("token.") {
            line += "  story \(storyId.uuidString.lowercased())"
        }
        if let reason = e.reason { line += "\n      reason: \(reason)" }
        if let diff = e.diff, !diff.isEmpty {
            let fields = diff.map(\.field)
            let shown = fields.prefix(8).joined(separator: ", ")
            line += "\n      changed: \(shown)\(fields.count > 8 ? " and \(fields.count - 8) more" : "")"
        }
        if let requestId = e.requestId { line += "\n      request: \(requestId)" }
        return line
    }

    /// One changed field on one line: `standfirst: (none) → "Oil output…"`. Values are JSON (so a
    /// line break in copy cannot break the line), cut to fit a terminal; `story revisions ID N`
    /// prints a revision in full.
    static func change(_ change: FieldChange) -> String {
        "\(change.field): \(value(change.from)) → \(value(change.to))"
    }

    private static func value(_ value: JSONValue?) -> String {
        guard let value else { return "(none)" }
        let text = (try? JSONCoding.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        let head = text.prefix(61)
        return head.count > 60 ? String(head.dropLast(2)) + "…" : text
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
