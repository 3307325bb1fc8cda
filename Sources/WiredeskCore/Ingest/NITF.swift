import Foundation

/// IPTC NITF 3.x (News Industry Text Format), the XML many agencies still deliver text in: `head`
/// holds the document's metadata (`docdata`), `body.head` the headline, byline and dateline,
/// `body.content` paragraphs, `hl2` crossheads and `media` (pictures with caption and producer).
public enum NITF {
    public static func parse(_ data: Data) throws -> ParsedItem {
        let root = try XMLReader.parse(data)
        guard root.name == "nitf" else {
            throw WiredeskError(.validation, "a NITF document's root element is <nitf>, not <\(root.name)>")
        }
        var copy = XMLCopy()
        var item = read(root, &copy)
        item.warnings += copy.warnings
        return item
    }

    static func read(_ nitf: XMLReader.Element, _ copy: inout XMLCopy) -> ParsedItem {
        let head = nitf.first("head")
        let docdata = head?.first("docdata")
        let bodyHead = nitf.first("body", "body.head")
        var content = StoryContent()
        var warnings: [String] = []

        let hedline = bodyHead?.first("hedline")
        content.headline = (copy.line(hedline?.first("hl1")) ?? copy.line(head?.first("title")))
            .map { String($0.prefix(Limits.headline)) }
        content.standfirst = (copy.line(hedline?.first("hl2")) ?? copy.line(bodyHead?.first("abstract")))
            .map { String($0.prefix(Limits.standfirst)) }
        content.bylines = (bodyHead?.all("byline") ?? []).compactMap { byline(of: $0, &copy) }.prefix(Limits.bylines).map { $0 }
        if let dateline = bodyHead?.first("dateline") {
            let place = copy.line(dateline.first("location")) ?? copy.line(dateline.first("city"))
            let date = dateline.first("story.date").flatMap { XMLCopy.day($0.attribute("norm") ?? $0.text) }
            if let place {
                content.dateline = Dateline(place: String(place.prefix(Limits.shortText)), date: date)
            }
        }
        content.source = (copy.line(bodyHead?.first("distributor")) ?? docdata?.first("doc.copyright")?.attribute("holder"))
            .map { String($0.prefix(Limits.shortText)) }
        if let copyrite = nitf.firstDescendant(named: "copyrite") {
            content.copyright = copy.line(copyrite).map { String($0.prefix(Limits.copyright)) }
        } else if let notice = docdata?.first("doc.copyright"), let holder = notice.attribute("holder") {
            content.copyright = copy.line(
                ["Copyright", notice.attribute("year"), holder].compactMap { $0 }.joined(separator: " "))
        }
        if let language = nitf.language ?? nitf.first("body")?.language, StoryContent.isLanguageTag(language) {
            content.language = language
        }
        if let urgency = docdata?.first("urgency")?.attribute("ed-urg").flatMap({ Int($0) }), (1...9).contains(urgency) {
            content.urgency = urgency
        }
        content.ednote = docdata?.all("ed-msg").compactMap { copy.line($0.attribute("info") ?? $0.text) }
            .joined(separator: "\n").nilIfEmpty.map { String($0.prefix(Limits.ednote)) }
        for keyword in docdata?.first("key-list")?.all("keyword") ?? [] {
            if let key = copy.line(keyword.attribute("key")), !content.keywords.contains(key),
                content.keywords.count < Limits.keywords
            {
                content.keywords.append(String(key.prefix(Limits.keyword)))
            }
        }
        for subject in head?.first("tobject")?.all("tobject.subject") ?? [] {
            let code = subject.attribute("tobject.subject.refnum").map { "subj:\($0)" }
            let name = copy.line(
                subject.attribute("tobject.subject.detail") ?? subject.attribute("tobject.subject.matter")
                    ?? subject.attribute("tobject.subject.type"))
            if code != nil || name != nil, content.subjects.count < Limits.subjects {
                content.subjects.append(Subject(code: code, name: name.map { String($0.prefix(Limits.shortText)) }))
            }
        }

        let (body, pictures) = self.body(nitf, &copy)
        content.body = body
        content.pictures = pictures
        if body.isEmpty { warnings.append("no body text") }

        let id = docdata?.first("doc-id")?.attribute("id-string").flatMap { $0.isEmpty ? nil : $0 }
        let version = docdata?.first("du-key")?.attribute("version")
        return ParsedItem(format: "nitf", content: content, agencyURI: id, agencyVersion: version, warnings: warnings)
    }

    /// `body.content`'s paragraphs, crossheads and pictures (also read from NITF inside NewsML-G2).
    static func body(_ nitf: XMLReader.Element, _ copy: inout XMLCopy) -> (blocks: [BodyBlock], pictures: [Picture]) {
        var pictures: [Picture] = []
        let blocks = nitf.first("body", "body.content").map { content in
            copy.blocks(content) { copy, media in
                if let picture = picture(media, &copy) { pictures.append(picture) }
            }
        }
        return (blocks ?? [], pictures)
    }

    /// A picture from `media`: its references as renditions, `media-caption` and `media-producer`.
    static func picture(_ media: XMLReader.Element, _ copy: inout XMLCopy) -> Picture? {
        let type = media.attribute("media-type")?.lowercased() ?? "image"
        guard type == "image" || type == "photo" || type == "graphic" else { return nil }
        var picture = Picture()
        picture.caption = copy.line(media.first("media-caption")).map { String($0.prefix(Limits.caption)) }
        picture.creditline = copy.line(media.first("media-producer")).map { String($0.prefix(Limits.creditline)) }
        for (i, reference) in media.all("media-reference").enumerated() {
            if picture.altText == nil {
                picture.altText = copy.line(reference.attribute("alternate-text")).map { String($0.prefix(Limits.altText)) }
            }
            guard let href = copy.link(reference.attribute("source")), picture.renditions.count < Limits.renditions else {
                continue
            }
            let name = copy.line(reference.attribute("name")).map { String($0.prefix(Limits.renditionName)) }
            picture.renditions.append(
                Rendition(
                    name: name ?? (i == 0 ? "original" : "rendition\(i + 1)"), href: href,
                    mediaType: copy.line(reference.attribute("mime-type")),
                    width: XMLCopy.dimension(reference.attribute("width")),
                    height: XMLCopy.dimension(reference.attribute("height"))))
        }
        return picture
    }

    /// `By Meredith Jameson, <byttl>Staff Reporter</byttl>`: the name without "By ", the title apart.
    static func byline(of element: XMLReader.Element, _ copy: inout XMLCopy) -> Byline? {
        var name = ""
        var title: String?
        for child in element.children {
            switch child {
            case .text(let text): name += text
            case .element(let inner) where inner.name == "byttl": title = copy.line(inner)
            case .element(let inner): name += inner.text
            }
        }
        guard let name = copy.byline(name) else { return nil }
        return Byline(name: name, title: title.map { String($0.prefix(Limits.shortText)) })
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
