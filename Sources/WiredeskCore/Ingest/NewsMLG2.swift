import Foundation

/// IPTC NewsML-G2 2.x: a `newsItem` (text, `ninat:text`, or a picture, `ninat:picture`), a
/// `packageItem` (a story with its pictures, by reference) or a `newsMessage` (a `header` and an
/// `itemSet` of several items). Each newsItem and packageItem becomes one story; a package takes in
/// the items it references that came in the same message, which then make no story of their own.
public enum NewsMLG2 {
    typealias Element = XMLReader.Element

    public static let newsItemMediaType = "application/vnd.iptc.g2.newsitem+xml"
    public static let packageItemMediaType = "application/vnd.iptc.g2.packageitem+xml"
    public static let newsMessageMediaType = "application/vnd.iptc.g2.newsmessage+xml"

    /// The stories in a NewsML-G2 document, in document order. Items of a newsMessage carry their
    /// byte range in it, so that each is kept as its own bytes.
    public static func parse(_ data: Data) throws -> [ParsedItem] {
        let root = try XMLReader.parse(data)
        switch root.name {
        case "newsItem":
            return [try newsItem(root)]
        case "packageItem":
            return [try packageItem(root, in: [:])]
        case "newsMessage":
            return try message(root)
        default:
            throw WiredeskError(
                .validation, "a NewsML-G2 document is a newsItem, packageItem or newsMessage, not <\(root.name)>")
        }
    }

    /// The most items one newsMessage may carry. Agencies send tens; each item is a transaction
    /// of its own, so a message of thousands of tiny items would make one request do thousands
    /// of writes.
    public static let messageItems = 500

    static func message(_ root: Element) throws -> [ParsedItem] {
        let items = root.first("itemSet")?.elements ?? []
        guard items.count <= messageItems else {
            throw WiredeskError(
                .validation, "the newsMessage holds \(items.count) items; at most \(messageItems) are taken in one message")
        }
        var newsItems: [String: Element] = [:]
        for item in items where item.name == "newsItem" {
            if let guid = item.attribute("guid"), newsItems[guid] == nil { newsItems[guid] = item }
        }
        // Each item a package takes in is read once, however many packages or references name it:
        // a message of many small packages naming one large item must not read it again for each.
        var taken: [String: ParsedItem] = [:]
        for package in items where package.name == "packageItem" {
            for reference in references(package) where taken[reference.guid] == nil {
                guard let item = newsItems[reference.guid] else { continue }
                do {
                    taken[reference.guid] = try newsItem(item)
                } catch let error as WiredeskError {
                    throw WiredeskError(
                        error.kind,
                        "the newsMessage's item \(reference.guid.prefix(100)), which a package references: \(error.message)",
                        rule: error.rule, fields: error.fields)
                }
            }
        }
        var parsed: [ParsedItem] = []
        var skipped: [String] = []
        for (index, item) in items.enumerated() {
            var story: ParsedItem
            do {
                switch item.name {
                case "newsItem":
                    if let guid = item.attribute("guid"), taken[guid] != nil { continue }
                    story = try newsItem(item)
                case "packageItem":
                    story = try packageItem(item, in: taken)
                default:
                    skipped.append(item.name)
                    continue
                }
            } catch let error as WiredeskError {
                throw WiredeskError(
                    error.kind, "item \(index + 1) of the newsMessage (\(item.name)): \(error.message)",
                    rule: error.rule, fields: error.fields)
            }
            story.byteRange = item.byteRange
            parsed.append(story)
        }
        guard !parsed.isEmpty else {
            throw WiredeskError(.validation, "the newsMessage holds no newsItem or packageItem in its itemSet")
        }
        if !skipped.isEmpty {
            parsed[0].warnings.append(
                "the newsMessage also held \(skipped.count) item\(skipped.count == 1 ? "" : "s") that "
                    + "\(skipped.count == 1 ? "is" : "are") not a story (\(Set(skipped).sorted().joined(separator: ", "))): left out"
            )
        }
        return parsed
    }

    // MARK: Items

    static func newsItem(_ item: Element) throws -> ParsedItem {
        var copy = XMLCopy()
        var (content, warnings) = try metadata(item, &copy)
        let itemClass = qcodeValue(item.first("itemMeta")?.first("itemClass")?.attribute("qcode"))
        switch itemClass {
        case "picture", "graphic":
            content.pictures = [picture(item, &copy)]
            return try finish(item, content, warnings + copy.warnings, isPicture: true)
        default:
            if !["text", "composite", ""].contains(itemClass) {
                warnings.append("a NewsML-G2 \(itemClass) item, imported as a story")
            }
            let (blocks, pictures, byline) = body(item, &copy)
            content.body = blocks
            content.pictures = pictures
            if content.bylines.isEmpty, let byline { content.bylines = [byline] }
            if blocks.isEmpty { warnings.append("no body text") }
        }
        return try finish(item, content, warnings + copy.warnings)
    }

    /// A package is one story: its text from the first text item it references, its pictures from
    /// the picture items. Referenced items that came in the same message (`message`, read) are
    /// taken whole; others by what the reference says of them (title, description).
    static func packageItem(_ package: Element, in message: [String: ParsedItem]) throws -> ParsedItem {
        var copy = XMLCopy()
        var (content, warnings) = try metadata(package, &copy)
        var text: StoryContent?
        var pictures: [Picture] = []
        var teasers: [Teaser] = []
        for reference in references(package) {
            if let inner = message[reference.guid] {
                warnings += inner.warnings.map { "\(reference.guid): \($0)" }
                if inner.isPicture {
                    pictures += inner.content.pictures
                } else if text == nil {
                    text = inner.content
                } else if let headline = inner.content.headline {
                    teasers.append(Teaser(headline: headline, standfirst: inner.content.standfirst))
                }
                continue
            }
            let title = copy.line(reference.element.first("title"))
            switch reference.itemClass {
            case "picture", "graphic":
                let caption = description(reference.element, role: "caption", &copy) ?? title
                pictures.append(
                    Picture(caption: caption.map { String($0.prefix(Limits.caption)) }, uri: copy.link(reference.guid)))
            case "text", "composite", "":
                let summary = description(reference.element, role: "summary", &copy)
                if text == nil {
                    text = StoryContent(
                        headline: title.map { String($0.prefix(Limits.headline)) },
                        standfirst: summary.map { String($0.prefix(Limits.standfirst)) })
                } else if let title {
                    teasers.append(Teaser(headline: String(title.prefix(Limits.headline)), standfirst: summary))
                }
            default:
                warnings.append("left out a referenced \(reference.itemClass) item (\(reference.guid))")
            }
        }
        if let text {
            content = merged(text, under: content)
        } else {
            warnings.append("the package references no text item")
        }
        if content.body.isEmpty { warnings.append("no body text") }
        content.pictures += pictures
        content.teasers += teasers
        return try finish(package, content, warnings + copy.warnings)
    }

    /// The text item's content, with what the package says filling what the text item does not.
    static func merged(_ text: StoryContent, under package: StoryContent) -> StoryContent {
        var story = text
        story.headline = text.headline ?? package.headline
        story.slug = text.slug ?? package.slug
        story.standfirst = text.standfirst ?? package.standfirst
        story.dateline = text.dateline ?? package.dateline
        story.source = text.source ?? package.source
        story.bylines = text.bylines.isEmpty ? package.bylines : text.bylines
        story.creditline = text.creditline ?? package.creditline
        story.copyright = text.copyright ?? package.copyright
        story.language = text.language ?? package.language
        story.urgency = text.urgency ?? package.urgency
        story.keywords = text.keywords.isEmpty ? package.keywords : text.keywords
        story.subjects = text.subjects.isEmpty ? package.subjects : text.subjects
        let notes = [package.ednote, text.ednote].compactMap { $0 }
        story.ednote = notes.isEmpty ? nil : String(notes.joined(separator: "\n").prefix(Limits.ednote))
        story.embargo = [text.embargo, package.embargo].compactMap { $0 }.max()
        story.pictures = package.pictures + text.pictures
        return story
    }

    static func finish(_ item: Element, _ content: StoryContent, _ warnings: [String], isPicture: Bool = false) throws
        -> ParsedItem
    {
        guard let guid = item.attribute("guid"), !guid.isEmpty else {
            throw WiredeskError.invalid(field: "guid", "a NewsML-G2 \(item.name) needs its guid")
        }
        var parsed = ParsedItem(
            format: "newsml-g2", content: content, agencyURI: guid, agencyVersion: item.attribute("version"),
            warnings: warnings, mediaType: item.name == "packageItem" ? packageItemMediaType : newsItemMediaType)
        parsed.isPicture = isPicture
        return parsed
    }

    struct Reference {
        var guid: String
        var itemClass: String
        var element: Element
    }

    /// The items a package's groups reference, in document order.
    static func references(_ package: Element) -> [Reference] {
        (package.first("groupSet")?.descendants ?? []).compactMap { element in
            guard element.name == "itemRef", let guid = element.attribute("residref"), !guid.isEmpty else { return nil }
            return Reference(
                guid: guid, itemClass: qcodeValue(element.first("itemClass")?.attribute("qcode")), element: element)
        }
    }

    // MARK: Metadata

    /// What every item says of itself: rights, status, embargo, notes, and its `contentMeta`.
    static func metadata(_ item: Element, _ copy: inout XMLCopy) throws -> (StoryContent, [String]) {
        var content = StoryContent()
        var warnings: [String] = []
        let itemMeta = item.first("itemMeta")
        let meta = item.first("contentMeta")
        let rights = item.first("rightsInfo")
        var notes = itemMeta?.all("edNote").compactMap { copy.line($0) } ?? []

        content.headline = (meta?.all("headline").first.flatMap { copy.line($0) } ?? copy.line(itemMeta?.first("title")))
            .map { String($0.prefix(Limits.headline)) }
        content.slug = copy.line(meta?.first("slugline")).map(StoryContent.slug(fromSlugline:))
        content.standfirst = description(meta, role: "summary", &copy).map { String($0.prefix(Limits.standfirst)) }
        let place = copy.line(meta?.first("located")?.first("name")) ?? copy.line(meta?.first("dateline"))
        if let place {
            let date = XMLCopy.day(meta?.first("contentCreated")?.text ?? itemMeta?.first("firstCreated")?.text)
            content.dateline = Dateline(place: String(place.prefix(Limits.shortText)), date: date)
        }
        let holder = copy.line(rights?.first("copyrightHolder")?.first("name"))
        content.source = (copy.line(itemMeta?.first("provider")?.first("name")) ?? holder)
            .map { String($0.prefix(Limits.shortText)) }
        content.copyright = copy.line(rights?.first("copyrightNotice")).map { String($0.prefix(Limits.copyright)) }
        content.creditline = copy.line(meta?.first("creditline")).map { String($0.prefix(Limits.creditline)) }
        let language = item.language ?? meta?.first("language")?.attribute("tag") ?? meta?.first("headline")?.language
        content.language = language.flatMap { StoryContent.isLanguageTag($0) ? $0 : nil }
        if let urgency = meta?.first("urgency").flatMap({ Int($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }),
            (1...9).contains(urgency)
        {
            content.urgency = urgency
        }
        let creators = (meta?.all("creator") ?? []).filter { qcodeValue($0.attribute("role")) != "photographer" }
        content.bylines = creators.compactMap { creator in
            copy.byline(creator.first("name")?.text ?? creator.text).map { Byline(name: $0) }
        }.prefix(Limits.bylines).map { $0 }
        if content.bylines.isEmpty {
            content.bylines = (meta?.all("by") ?? []).compactMap { copy.byline($0.text).map { Byline(name: $0) } }
        }
        for keyword in meta?.all("keyword") ?? [] {
            if let word = copy.line(keyword), !content.keywords.contains(word), content.keywords.count < Limits.keywords {
                content.keywords.append(String(word.prefix(Limits.keyword)))
            }
        }
        for subject in meta?.all("subject") ?? [] {
            let code = copy.line(subject.attribute("qcode") ?? subject.attribute("uri")).flatMap {
                $0.utf8.count <= Limits.uri ? $0 : nil
            }
            let name = copy.line(subject.first("name")).map { String($0.prefix(Limits.shortText)) }
            let found = Subject(code: code, name: name)
            guard code != nil || name != nil, !content.subjects.contains(found) else { continue }
            guard content.subjects.count < Limits.subjects else {
                warnings.append("kept the first \(Limits.subjects) subjects")
                break
            }
            content.subjects.append(found)
        }

        let status = qcodeValue(itemMeta?.first("pubStatus")?.attribute("qcode"))
        if !status.isEmpty, status != "usable" {
            warnings.append("the agency marks this item \(status) (not usable)")
            notes.insert("Agency status: \(status).", at: 0)
        }
        if let text = itemMeta?.first("embargoed")?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            guard let date = JSONCoding.parseDate(text) else {
                throw WiredeskError.invalid(field: "embargoed", "not a date and time with its offset (e.g. 2026-01-07T09:30:00Z)")
            }
            content.embargo = date
        }
        content.ednote = notes.isEmpty ? nil : String(notes.joined(separator: "\n").prefix(Limits.ednote))
        return (content, warnings)
    }

    /// `drol:caption` → `caption`: the part of a qcode after its scheme's alias.
    static func qcodeValue(_ qcode: String?) -> String {
        guard let qcode else { return "" }
        return qcode.split(separator: ":", maxSplits: 1).last.map(String.init) ?? qcode
    }

    /// The first `description` with this role (`drol:summary`, `drol:caption`).
    static func description(_ parent: Element?, role: String, _ copy: inout XMLCopy) -> String? {
        let match = parent?.all("description").first { qcodeValue($0.attribute("role")) == role }
        return copy.line(match)
    }

    // MARK: Content

    /// The picture a picture item is: caption, credit, photographer, and its remote files.
    static func picture(_ item: Element, _ copy: inout XMLCopy) -> Picture {
        let meta = item.first("contentMeta")
        var picture = Picture()
        picture.caption = (description(meta, role: "caption", &copy) ?? copy.line(meta?.first("headline")))
            .map { String($0.prefix(Limits.caption)) }
        picture.creditline = copy.line(meta?.first("creditline")).map { String($0.prefix(Limits.creditline)) }
        let creators = meta?.all("creator") ?? []
        let photographer = creators.first { qcodeValue($0.attribute("role")) == "photographer" } ?? creators.first
        picture.photographer = copy.byline(photographer?.first("name")?.text ?? photographer?.text)
        picture.altText = description(meta, role: "alt", &copy).map { String($0.prefix(Limits.altText)) }
        if let guid = item.attribute("guid"), let scheme = StoryContent.uriScheme(guid),
            !StoryContent.refusedSchemes.contains(scheme), guid.utf8.count <= Limits.uri
        {
            picture.uri = guid
        }
        for remote in item.first("contentSet")?.all("remoteContent") ?? [] {
            guard let href = copy.link(remote.attribute("href")) else { continue }
            guard picture.renditions.count < Limits.renditions else { break }
            let name = qcodeValue(remote.attribute("rendition")).nilIfEmpty.map { String($0.prefix(Limits.renditionName)) }
            picture.renditions.append(
                Rendition(
                    name: name ?? "rendition\(picture.renditions.count + 1)", href: href,
                    mediaType: copy.line(remote.attribute("contenttype")).map { String($0.prefix(Limits.mediaType)) },
                    width: XMLCopy.dimension(remote.attribute("width")),
                    height: XMLCopy.dimension(remote.attribute("height"))))
        }
        return picture
    }

    /// A text item's body: NITF or XHTML inline (the first that has text), or plain inline data.
    /// An inline NITF's byline is a fallback for an item without creators.
    static func body(_ item: Element, _ copy: inout XMLCopy) -> (blocks: [BodyBlock], pictures: [Picture], byline: Byline?) {
        guard let contentSet = item.first("contentSet") else { return ([], [], nil) }
        for inline in contentSet.elements {
            switch inline.name {
            case "inlineXML":
                if let nitf = inline.first("nitf") {
                    let (blocks, pictures) = NITF.body(nitf, &copy)
                    let byline = nitf.first("body", "body.head")?.first("byline").flatMap { NITF.byline(of: $0, &copy) }
                    if !blocks.isEmpty { return (blocks, pictures, byline) }
                } else if let html = inline.first("html") {
                    let blocks = html.first("body").map { copy.blocks($0) } ?? []
                    if !blocks.isEmpty { return (blocks, [], nil) }
                } else {
                    let blocks = copy.blocks(inline)
                    if !blocks.isEmpty { return (blocks, [], nil) }
                }
            case "inlineData":
                let blocks = WireText.lines(copy.clean(inline.text)).map { BodyBlock(.paragraph, HTMLText.collapse($0)) }
                    .filter { !$0.text.isEmpty }
                if !blocks.isEmpty { return (blocks, [], nil) }
            default:
                continue
            }
        }
        return ([], [], nil)
    }
}
