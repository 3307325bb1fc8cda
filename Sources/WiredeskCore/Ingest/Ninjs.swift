import Foundation

/// IPTC ninjs ("News in JSON"), the format agencies deliver and newsrooms exchange. 1.x names
/// fields in lower case with one `headline` and `body_*` strings; 2.x keeps lower case with
/// `headlines`/`bodies` arrays; 3.x names them in camelCase.
public enum Ninjs {
    public enum Version: String, Sendable, CaseIterable {
        case v1 = "1", v2 = "2", v3 = "3"
    }

    /// Which ninjs a document is: its `$standard`/`standard` if it says, otherwise its field names.
    public static func version(of object: [String: JSONValue]) -> Version {
        for key in ["$standard", "standard"] {
            if case .object(let standard)? = object[key], case .string(let version)? = standard["version"],
                let major = version.first, let found = Version(rawValue: String(major))
            {
                return found
            }
        }
        let camel = [
            "versionCreated", "firstCreated", "contentCreated", "copyrightNotice", "copyrightHolder",
            "embargoedUntil", "pubStatus", "edNote", "altIds", "infoSources", "usageTerms",
        ]
        if camel.contains(where: { object[$0] != nil }) { return .v3 }
        let camelParts = ["contentType", "sizeInBytes", "versionCreated", "altIds"]
        for key in ["bodies", "headlines", "descriptions", "renditions", "associations"] {
            if case .array(let parts)? = object[key],
                parts.contains(where: { part in camelParts.contains { part.field($0) != nil } })
            {
                return .v3
            }
        }
        if object["headlines"] != nil || object["bodies"] != nil || object["descriptions"] != nil { return .v2 }
        return .v1
    }

    // MARK: Export

    /// The versions Wiredesk writes.
    public enum ExportVersion: String, Sendable, CaseIterable {
        case v2 = "ninjs2", v3 = "ninjs3"
    }

    /// The story as a ninjs 2.2 or 3.1 text item. The editor's note stays inside Wiredesk: it is
    /// never published. Crossheads travel as `<h2>` in the HTML body.
    public static func export(_ story: Story, as version: ExportVersion) -> JSONValue {
        let v3 = version == .v3
        let c = story.content
        let uri = "urn:wiredesk:story:\(story.id.uuidString.lowercased())"
        var item: [String: JSONValue] = [
            "uri": .string(uri),
            "type": .string("text"),
            "version": .string(String(story.version)),
            (v3 ? "versionCreated" : "versioncreated"): .string(JSONCoding.formatDate(story.updatedAt)),
            (v3 ? "firstCreated" : "firstcreated"): .string(JSONCoding.formatDate(story.createdAt)),
            (v3 ? "pubStatus" : "pubstatus"): .string(pubStatus(story.state)),
        ]
        if v3 {
            item["standard"] = .object(["name": .string("ninjs"), "version": .string("3.1")])
        } else {
            item["standard"] = .object(["name": .string("ninjs"), "version": .string("2.2")])
        }
        if let headline = c.headline {
            item["headlines"] = .array([.object(["role": .string("main"), "value": .string(headline)])])
        }
        var descriptions: [JSONValue] = []
        if let standfirst = c.standfirst {
            descriptions.append(.object(["role": .string("summary"), "value": .string(standfirst)]))
        }
        if !descriptions.isEmpty { item["descriptions"] = .array(descriptions) }
        if !c.body.isEmpty {
            item["bodies"] = .array([
                .object([
                    "role": .string("main"), (v3 ? "contentType" : "contenttype"): .string("text/html"),
                    "value": .string(html(c.body)),
                ])
            ])
        }
        if !c.bylines.isEmpty {
            item["by"] = .string(
                c.bylines.map { [$0.name, $0.title].compactMap { $0 }.joined(separator: ", ") }.joined(separator: "; "))
        }
        if let place = c.dateline?.place { item["located"] = .string(place) }
        if let source = c.source { item[v3 ? "copyrightHolder" : "copyrightholder"] = .string(source) }
        if let copyright = c.copyright { item[v3 ? "copyrightNotice" : "copyrightnotice"] = .string(copyright) }
        if let language = c.language { item["language"] = .string(language) }
        if let urgency = c.urgency { item["urgency"] = .number(Double(urgency)) }
        if let slug = c.slug { item["slugline"] = .string(slug) }
        if let embargo = c.embargo { item[v3 ? "embargoedUntil" : "embargoed"] = .string(JSONCoding.formatDate(embargo)) }
        // ninjs has no keywords: they travel as subjects with a name alone, as they always have.
        let subjects = c.keywords.map { JSONValue.object(["name": .string($0)]) } + c.subjects.map(subject)
        if !subjects.isEmpty { item["subjects"] = .array(subjects) }
        if !c.pictures.isEmpty {
            item["associations"] = .array(
                c.pictures.enumerated().map { i, picture in
                    // A stored link from before schemes were checked is not passed on.
                    let own = picture.uri.flatMap { StoryContent.uriScheme($0) }.map {
                        !StoryContent.refusedSchemes.contains($0)
                    }
                    var association: [String: JSONValue] = [
                        "name": .string("picture\(i + 1)"),
                        "uri": .string(own == true ? picture.uri! : "\(uri):picture:\(i + 1)"),
                        "type": .string("picture"),
                    ]
                    var descriptions: [JSONValue] = []
                    for (role, value) in [
                        ("caption", picture.caption), ("creditline", picture.creditline), ("alt", picture.altText),
                    ] {
                        if let value { descriptions.append(.object(["role": .string(role), "value": .string(value)])) }
                    }
                    if !descriptions.isEmpty { association["descriptions"] = .array(descriptions) }
                    if let photographer = picture.photographer { association["by"] = .string(photographer) }
                    // Only what a reader's browser may fetch travels as a link.
                    var renditions: [JSONValue] = []
                    if let href = picture.uri, StoryContent.isWebLink(href) {
                        renditions.append(.object(["name": .string("original"), "href": .string(href)]))
                    }
                    for rendition in picture.renditions where StoryContent.isWebLink(rendition.href) {
                        var fields: [String: JSONValue] = ["name": .string(rendition.name), "href": .string(rendition.href)]
                        if let type = rendition.mediaType { fields[v3 ? "contentType" : "contenttype"] = .string(type) }
                        if let width = rendition.width { fields["width"] = .number(Double(width)) }
                        if let height = rendition.height { fields["height"] = .number(Double(height)) }
                        renditions.append(.object(fields))
                    }
                    if !renditions.isEmpty { association["renditions"] = .array(renditions) }
                    return .object(association)
                })
        }
        return .object(item)
    }

    /// A code that is an absolute URI (a qcode is one: `medtop:04000000`) travels as the subject's
    /// `uri`; anything else as its `literal`.
    static func subject(_ subject: Subject) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        if let name = subject.name { fields["name"] = .string(name) }
        if let code = subject.code {
            let isURI = StoryContent.uriScheme(code) != nil && !code.unicodeScalars.contains { HTMLText.isWhitespace($0) }
            fields[isURI ? "uri" : "literal"] = .string(code)
        }
        return .object(fields)
    }

    /// published: usable; killed: canceled; anything not yet published: withheld.
    static func pubStatus(_ state: StoryState) -> String {
        switch state {
        case .published: "usable"
        case .killed, .spiked: "canceled"
        case .draft, .inReview, .approved: "withheld"
        }
    }

    static func html(_ body: [BodyBlock]) -> String {
        body.map { block in
            let text = HTMLText.escape(block.text)
            return block.kind == .crosshead ? "<h2>\(text)</h2>" : "<p>\(text)</p>"
        }.joined()
    }

    // MARK: Import

    /// A story draft from a ninjs text item; pictures come from its associations.
    public static func parse(_ data: Data) throws -> ParsedItem {
        let document: JSONValue
        do {
            document = try JSONCoding.decoder().decode(JSONValue.self, from: data)
        } catch {
            throw WiredeskError(.validation, "not JSON")
        }
        guard case .object(let original) = document else {
            throw WiredeskError(.validation, "a ninjs item is a JSON object")
        }
        // The agency's identifiers stay exact (and are refused if they hold control characters);
        // the copy is cleaned.
        guard case .string(let uri)? = original["uri"], !uri.isEmpty else {
            throw WiredeskError.invalid(field: "uri", "a ninjs item needs its uri")
        }
        let agencyVersion = original["version"]?.string
        let (item, removed) = ControlCharacters.removed(from: original)
        let version = version(of: item)
        let key = Keys(version)
        var warnings: [String] = []
        if removed > 0 { warnings.append(ControlCharacters.warning(removed)) }
        var content = StoryContent()

        if let type = item["type"]?.string, !["text", "composite"].contains(type) {
            warnings.append("a ninjs \(quoted(type)) item, imported as a story")
        }
        content.headline = headline(item, version)
        content.standfirst = description(item, version, roles: ["summary", "abstract", "text", "description", "lead"])
            .map { String($0.prefix(Limits.standfirst)) }
        content.body = body(item, version)
        if content.body.isEmpty { warnings.append("no body text") }
        if let by = line(version == .v1 ? item["byline"] : item["by"]) {
            content.bylines = [Byline(name: String(by.prefix(Limits.shortText)))]
        }
        if let located = line(item["located"]) {
            let when = (item[key.firstCreated] ?? item[key.versionCreated])?.string.flatMap(JSONCoding.parseDate)
            content.dateline = Dateline(place: located, date: when.map(Self.day))
        }
        content.source = line(item[key.copyrightHolder])
        content.copyright = line(item[key.copyrightNotice])
        content.language = item["language"]?.string.flatMap { StoryContent.isLanguageTag($0) ? $0 : nil }
        if case .number(let urgency)? = item["urgency"], (1...9).contains(urgency), urgency.rounded() == urgency {
            content.urgency = Int(urgency)
        }
        content.ednote = item[key.ednote]?.string
        if let embargo = item[key.embargo]?.string {
            // The agency's own field, which the API's spec does not describe: a bad value is a value
            // to refuse, not malformed input.
            guard let date = JSONCoding.parseDate(embargo) else {
                throw WiredeskError.invalid(field: key.embargo, "not an RFC 3339 timestamp in the years 0001 to 9999")
            }
            content.embargo = date
        }
        content.slug = line(item["slugline"]).map(StoryContent.slug(fromSlugline:))
        content.keywords = subjects(item[version == .v1 ? "subject" : "subjects"])
        content.subjects = codedSubjects(item[version == .v1 ? "subject" : "subjects"])
        let (found, dropped) = pictures(item["associations"], version)
        content.pictures = found
        if dropped > 0 {
            warnings.append(
                "left out \(dropped) picture link\(dropped == 1 ? "" : "s") with a scheme that is not allowed (javascript:, vbscript:, data:, file:)")
        }
        if let status = item[key.pubStatus]?.string, status != "usable" {
            warnings.append("the agency marks this item \(quoted(status))")
        }
        return ParsedItem(
            format: "ninjs-\(version.rawValue)", content: content, agencyURI: uri, agencyVersion: agencyVersion,
            warnings: warnings)
    }

    /// The agency's own word, quoted in a warning: short, with line breaks and tabs written out
    /// (a warning is one line on a terminal).
    private static func quoted(_ value: String) -> String {
        var quoted = "\""
        for scalar in value.unicodeScalars.prefix(100) {
            if scalar.properties.generalCategory == .control {
                quoted += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// Field names that changed case between versions.
    struct Keys {
        var versionCreated, firstCreated, copyrightHolder, copyrightNotice, ednote, embargo, pubStatus, contentType: String

        init(_ version: Version) {
            if version == .v3 {
                (versionCreated, firstCreated, copyrightHolder, copyrightNotice) =
                    ("versionCreated", "firstCreated", "copyrightHolder", "copyrightNotice")
                (ednote, embargo, pubStatus, contentType) = ("edNote", "embargoedUntil", "pubStatus", "contentType")
            } else {
                (versionCreated, firstCreated, copyrightHolder, copyrightNotice) =
                    ("versioncreated", "firstcreated", "copyrightholder", "copyrightnotice")
                (ednote, embargo, pubStatus, contentType) = ("ednote", "embargoed", "pubstatus", "contenttype")
            }
        }
    }

    private static func headline(_ item: [String: JSONValue], _ version: Version) -> String? {
        if version == .v1 { return line(item["headline"]) }
        guard case .array(let headlines)? = item["headlines"] else { return nil }
        let main = headlines.first { $0.field("role")?.string == "main" } ?? headlines.first
        return line(main?.field("value"))
    }

    private static func description(_ item: [String: JSONValue], _ version: Version, roles: [String]) -> String? {
        if version == .v1 {
            if let text = item["description_text"]?.string { return nonEmpty(text) }
            return item.first { $0.key.hasPrefix("description_") }?.value.string.map(HTMLText.plain).flatMap(nonEmpty)
        }
        guard case .array(let descriptions)? = item["descriptions"] else { return nil }
        for role in roles {
            if let match = descriptions.first(where: { $0.field("role")?.string == role }),
                let value = match.field("value")?.string
            {
                return nonEmpty(isHTML(match, version) ? HTMLText.plain(value) : value)
            }
        }
        return nil
    }

    /// Plain-text bodies split at line breaks; HTML bodies at their blocks, headings as crossheads.
    private static func body(_ item: [String: JSONValue], _ version: Version) -> [BodyBlock] {
        if version == .v1 {
            if let text = item["body_text"]?.string { return paragraphs(text) }
            if let html = item.first(where: { $0.key.hasPrefix("body_") })?.value.string { return HTMLText.blocks(html) }
            return []
        }
        guard case .array(let bodies)? = item["bodies"], !bodies.isEmpty else { return [] }
        // Prefer the richest form: HTML keeps crossheads apart; plain text has only lines. An HTML
        // body with no text in it leaves a plain one to fall back on, never its own markup.
        if let html = bodies.first(where: { isHTML($0, version) }), let value = html.field("value")?.string {
            let blocks = HTMLText.blocks(value)
            if !blocks.isEmpty { return blocks }
        }
        let plain = bodies.first { !isHTML($0, version) }
        return plain?.field("value")?.string.map(paragraphs) ?? []
    }

    private static func isHTML(_ value: JSONValue, _ version: Version) -> Bool {
        let type = value.field(Keys(version).contentType)?.string ?? value.field("contentType")?.string ?? ""
        return type.contains("html") || (type.isEmpty && (value.field("value")?.string ?? "").hasPrefix("<"))
    }

    private static func paragraphs(_ text: String) -> [BodyBlock] {
        WireText.lines(text).map {
            WireText.crosshead($0).map { BodyBlock(.crosshead, $0) } ?? BodyBlock(.paragraph, $0)
        }
    }

    private static func subjects(_ value: JSONValue?) -> [String] {
        guard case .array(let subjects)? = value else { return [] }
        var keywords: [String] = []
        for subject in subjects {
            let name = line(subject.field("name")) ?? line(subject.field("literal")) ?? line(subject.field("code"))
            if let name, !keywords.contains(name), keywords.count < Limits.keywords {
                keywords.append(String(name.prefix(Limits.keyword)))
            }
        }
        return keywords
    }

    /// Subjects that carry an identifier (`uri`, or 1.x's `code`), with their names.
    private static func codedSubjects(_ value: JSONValue?) -> [Subject] {
        guard case .array(let subjects)? = value else { return [] }
        var coded: [Subject] = []
        for subject in subjects {
            guard let code = line(subject.field("uri")) ?? line(subject.field("code")), code.count <= Limits.uri else {
                continue
            }
            let name = line(subject.field("name")).map { String($0.prefix(Limits.shortText)) }
            let found = Subject(code: code, name: name)
            if !coded.contains(found), coded.count < Limits.subjects { coded.append(found) }
        }
        return coded
    }

    /// Pictures among the associations: 1.x keys them by name in an object, 2.x and 3.x list them.
    /// A link with a scheme that could run script or read local files is left out (and counted).
    private static func pictures(_ value: JSONValue?, _ version: Version) -> (pictures: [Picture], dropped: Int) {
        let associations: [JSONValue]
        switch value {
        case .object(let named)?: associations = named.keys.sorted().compactMap { named[$0] }
        case .array(let list)?: associations = list
        default: return ([], 0)
        }
        var dropped = 0
        let pictures = associations.compactMap { association -> Picture? in
            guard case .object(let item) = association,
                ["picture", "graphic", "image"].contains(item["type"]?.string ?? "")
            else { return nil }
            var picture = Picture()
            picture.caption =
                description(item, version, roles: ["caption", "text", "summary", "description"])
                ?? headline(item, version)
            picture.creditline = (description(item, version, roles: ["creditline", "credit"]) ?? item["creditline"]?.string)
                .flatMap { nonEmpty(HTMLText.collapse($0)) }
            picture.altText = description(item, version, roles: ["alt", "alttext", "alternative"])
            picture.photographer = line(version == .v1 ? item["byline"] : item["by"])
            picture.renditions = renditions(item["renditions"], version)
            if let uri = item["uri"]?.string, let scheme = StoryContent.uriScheme(uri) {
                if StoryContent.refusedSchemes.contains(scheme) {
                    dropped += 1
                } else {
                    picture.uri = uri
                }
            }
            return picture
        }
        return (pictures, dropped)
    }

    /// The renditions a reader's browser could fetch, as far as they are whole.
    private static func renditions(_ value: JSONValue?, _ version: Version) -> [Rendition] {
        guard case .array(let list)? = value else { return [] }
        func dimension(_ value: JSONValue?) -> Int? {
            guard case .number(let number)? = value, number.rounded() == number, number >= 1,
                number <= Double(Limits.dimension)
            else { return nil }
            return Int(number)
        }
        return list.compactMap { rendition -> Rendition? in
            guard let name = line(rendition.field("name")), name.count <= Limits.renditionName,
                let href = rendition.field("href")?.string, StoryContent.isWebLink(href), href.utf8.count <= Limits.uri,
                !href.unicodeScalars.contains(where: ControlCharacters.isControl)
            else { return nil }
            let type = line(rendition.field(Keys(version).contentType)).flatMap { $0.count <= Limits.mediaType ? $0 : nil }
            return Rendition(
                name: name, href: href, mediaType: type, width: dimension(rendition.field("width")),
                height: dimension(rendition.field("height")))
        }.prefix(Limits.renditions).map { $0 }
    }

    /// A one-line field: the agency's line breaks and runs of spaces become one space.
    private static func line(_ value: JSONValue?) -> String? {
        value?.string.flatMap { nonEmpty(HTMLText.collapse($0)) }
    }

    private static func nonEmpty(_ text: String) -> String? {
        text.allSatisfy(\.isWhitespace) ? nil : text
    }

    static func day(_ date: Date) -> String {
        let components = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d", components.year ?? 1970, components.month ?? 1, components.day ?? 1)
    }
}

extension JSONValue {
    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    func field(_ key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}
