import Foundation

/// Copy read out of an agency's XML tree (NITF, NewsML-G2): one-line fields collapsed, control
/// characters taken out and counted (the stored payload keeps them), bodies as paragraphs and
/// crossheads. Shared by both formats, since NewsML-G2 carries NITF or XHTML bodies inline.
struct XMLCopy {
    typealias Element = XMLReader.Element

    private(set) var removed = 0
    /// Picture links left out: relative, or with a scheme that could run script or read local files.
    var droppedLinks = 0

    var warnings: [String] {
        var warnings: [String] = []
        if removed > 0 { warnings.append(ControlCharacters.warning(removed)) }
        if droppedLinks > 0 {
            warnings.append(
                "left out \(droppedLinks) picture link\(droppedLinks == 1 ? "" : "s") that "
                    + "\(droppedLinks == 1 ? "is" : "are") not an absolute URI with an allowed scheme "
                    + "(relative, javascript:, vbscript:, data:, file:)")
        }
        return warnings
    }

    mutating func clean(_ text: String) -> String {
        let (clean, count) = ControlCharacters.removed(from: text)
        removed += count
        return clean
    }

    /// An element's text as one line; nil when it has none.
    mutating func line(_ element: Element?) -> String? {
        line(element?.text)
    }

    mutating func line(_ text: String?) -> String? {
        guard let text else { return nil }
        let collapsed = HTMLText.collapse(clean(text))
        return collapsed.isEmpty ? nil : collapsed
    }

    /// `By Meredith Jameson,` → `Meredith Jameson`.
    mutating func byline(_ text: String?) -> String? {
        guard var name = line(text) else { return nil }
        if name.lowercased().hasPrefix("by ") { name = String(name.dropFirst(3)) }
        while let last = name.last, last == "," || last == ";" || last == " " { name.removeLast() }
        return name.isEmpty ? nil : String(name.prefix(Limits.shortText))
    }

    /// An agency's link kept if it is absolute with a scheme a story may hold; counted otherwise.
    mutating func link(_ href: String?) -> String? {
        guard let href = href?.trimmingCharacters(in: .whitespaces), !href.isEmpty else { return nil }
        guard let scheme = StoryContent.uriScheme(href), !StoryContent.refusedSchemes.contains(scheme),
            href.utf8.count <= Limits.uri,
            !href.unicodeScalars.contains(where: { HTMLText.isWhitespace($0) || ControlCharacters.isControl($0) })
        else {
            droppedLinks += 1
            return nil
        }
        return href
    }

    /// A pixel count from an attribute.
    static func dimension(_ text: String?) -> Int? {
        guard let text, let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...Limits.dimension).contains(value)
        else { return nil }
        return value
    }

    /// `YYYY-MM-DD` from the start of an ISO 8601 date, basic (`20220107T…`) or extended.
    static func day(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        let extended = String(text.prefix(10))
        if StoryContent.isCalendarDate(extended) { return extended }
        let digits = text.prefix(8)
        guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let day = "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))"
        return StoryContent.isCalendarDate(day) ? day : nil
    }

    // MARK: Bodies

    private enum Role { case paragraph, crosshead, container, media, skip }

    private static func role(_ name: String) -> Role {
        switch name {
        case "p", "li", "pre", "dd", "dt", "td", "th", "caption": .paragraph
        case "hl1", "hl2", "h1", "h2", "h3", "h4", "h5", "h6": .crosshead
        case "media": .media
        case "script", "style", "head", "title", "tagline", "body.head", "body.end": .skip
        default: .container
        }
    }

    /// The paragraphs and crossheads of a body (NITF `body.content`, an XHTML `body`) in order;
    /// NITF `media` elements go to `media`. Walked with a stack (the reader bounds the depth, but
    /// the walk need not rely on it).
    mutating func blocks(_ body: Element, media: (inout XMLCopy, Element) -> Void = { _, _ in }) -> [BodyBlock] {
        var blocks: [BodyBlock] = []
        var pending: [ArraySlice<XMLReader.Node>] = [body.children[...]]
        // One block over the limit is enough for validation to refuse the body by name; cleaning
        // up thousands more would be work for nothing (a megabyte of `<p>x</p>` is 130,000).
        while blocks.count <= Limits.bodyBlocks, var nodes = pending.popLast() {
            guard let node = nodes.popFirst() else { continue }
            pending.append(nodes)
            switch node {
            case .text(let text):
                // Text straight inside a container is a paragraph of its own.
                if let line = line(text) { blocks.append(BodyBlock(.paragraph, line)) }
            case .element(let element):
                switch Self.role(element.name) {
                case .paragraph:
                    if let line = line(element) { blocks.append(BodyBlock(.paragraph, line)) }
                case .crosshead:
                    if let line = line(element) {
                        // A "crosshead" longer than a headline is copy, not a heading.
                        blocks.append(BodyBlock(line.unicodeScalars.count <= Limits.headline ? .crosshead : .paragraph, line))
                    }
                case .media:
                    media(&self, element)
                case .container:
                    pending.append(element.children[...])
                case .skip:
                    break
                }
            }
        }
        return blocks
    }
}
