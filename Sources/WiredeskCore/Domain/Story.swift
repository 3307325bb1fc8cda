import Foundation

/// The editorial content of a story: everything an editor writes. Server-kept facts (state,
/// version, who and when) live on `Story`.
public struct StoryContent: Codable, Equatable, Sendable {
    public var headline: String?
    public var slug: String?
    public var standfirst: String?
    public var dateline: Dateline?
    public var source: String?
    public var bylines: [Byline]
    public var creditline: String?
    public var copyright: String?
    public var language: String?
    public var urgency: Int?
    public var keywords: [String]
    /// Coded subjects (IPTC Media Topics and the like), as agencies tag their copy.
    public var subjects: [Subject]
    public var ednote: String?
    public var embargo: Date?
    public var body: [BodyBlock]
    public var pictures: [Picture]
    /// Headlines and standfirsts of other stories that came with this one (a wire page's
    /// "related" links): kept beside the story, never part of its body.
    public var teasers: [Teaser]

    public init(
        headline: String? = nil, slug: String? = nil, standfirst: String? = nil,
        dateline: Dateline? = nil, source: String? = nil, bylines: [Byline] = [],
        creditline: String? = nil, copyright: String? = nil, language: String? = nil,
        urgency: Int? = nil, keywords: [String] = [], subjects: [Subject] = [], ednote: String? = nil,
        embargo: Date? = nil, body: [BodyBlock] = [], pictures: [Picture] = [], teasers: [Teaser] = []
    ) {
        self.headline = headline
        self.slug = slug
        self.standfirst = standfirst
        self.dateline = dateline
        self.source = source
        self.bylines = bylines
        self.creditline = creditline
        self.copyright = copyright
        self.language = language
        self.urgency = urgency
        self.keywords = keywords
        self.subjects = subjects
        self.ednote = ednote
        self.embargo = embargo
        self.body = body
        self.pictures = pictures
        self.teasers = teasers
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case headline, slug, standfirst, dateline, source, bylines, creditline, copyright
        case language, urgency, keywords, subjects, ednote, embargo, body, pictures, teasers
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        headline = try c.decodeIfPresent(String.self, forKey: .headline)
        slug = try c.decodeIfPresent(String.self, forKey: .slug)
        standfirst = try c.decodeIfPresent(String.self, forKey: .standfirst)
        dateline = try c.decodeIfPresent(Dateline.self, forKey: .dateline)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        bylines = try c.decodeIfPresent([Byline].self, forKey: .bylines) ?? []
        creditline = try c.decodeIfPresent(String.self, forKey: .creditline)
        copyright = try c.decodeIfPresent(String.self, forKey: .copyright)
        language = try c.decodeIfPresent(String.self, forKey: .language)
        urgency = try c.decodeIfPresent(Int.self, forKey: .urgency)
        keywords = try c.decodeIfPresent([String].self, forKey: .keywords) ?? []
        subjects = try c.decodeIfPresent([Subject].self, forKey: .subjects) ?? []
        ednote = try c.decodeIfPresent(String.self, forKey: .ednote)
        embargo = try c.decodeIfPresent(Date.self, forKey: .embargo)
        body = try c.decodeIfPresent([BodyBlock].self, forKey: .body) ?? []
        pictures = try c.decodeIfPresent([Picture].self, forKey: .pictures) ?? []
        teasers = try c.decodeIfPresent([Teaser].self, forKey: .teasers) ?? []
    }
}

public struct Teaser: Codable, Equatable, Sendable {
    public var headline: String
    public var standfirst: String?

    public init(headline: String, standfirst: String? = nil) {
        self.headline = headline
        self.standfirst = standfirst
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case headline, standfirst }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        headline = try c.decode(String.self, forKey: .headline)
        standfirst = try c.decodeIfPresent(String.self, forKey: .standfirst)
    }
}

public struct Dateline: Codable, Equatable, Sendable {
    public var place: String
    /// Calendar date as written, `YYYY-MM-DD`.
    public var date: String?

    public init(place: String, date: String? = nil) {
        self.place = place
        self.date = date
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case place, date }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        place = try c.decode(String.self, forKey: .place)
        date = try c.decodeIfPresent(String.self, forKey: .date)
    }
}

public struct Byline: Codable, Equatable, Sendable {
    public var name: String
    public var title: String?

    public init(name: String, title: String? = nil) {
        self.name = name
        self.title = title
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, title }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        title = try c.decodeIfPresent(String.self, forKey: .title)
    }
}

/// Paragraphs and crossheads stay distinct so that no output format has to guess which is which.
public struct BodyBlock: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable { case paragraph, crosshead }
    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case kind, text }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind)
        text = try c.decode(String.self, forKey: .text)
    }
}

/// A concept the story is about: a code from a scheme (a qcode such as `medtop:04000000`, or a
/// URI), a name, or both.
public struct Subject: Codable, Equatable, Sendable {
    public var code: String?
    public var name: String?

    public init(code: String? = nil, name: String? = nil) {
        self.code = code
        self.name = name
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case code, name }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decodeIfPresent(String.self, forKey: .code)
        name = try c.decodeIfPresent(String.self, forKey: .name)
    }
}

/// Caption and creditline may be missing while a story is drafted; approval requires both.
public struct Picture: Codable, Equatable, Sendable {
    public var caption: String?
    public var creditline: String?
    public var altText: String?
    public var photographer: String?
    public var uri: String?
    /// The agency's files of the picture (high resolution, web, thumbnail).
    public var renditions: [Rendition]

    public init(
        caption: String? = nil, creditline: String? = nil, altText: String? = nil,
        photographer: String? = nil, uri: String? = nil, renditions: [Rendition] = []
    ) {
        self.caption = caption
        self.creditline = creditline
        self.altText = altText
        self.photographer = photographer
        self.uri = uri
        self.renditions = renditions
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case caption, creditline, altText, photographer, uri, renditions }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caption = try c.decodeIfPresent(String.self, forKey: .caption)
        creditline = try c.decodeIfPresent(String.self, forKey: .creditline)
        altText = try c.decodeIfPresent(String.self, forKey: .altText)
        photographer = try c.decodeIfPresent(String.self, forKey: .photographer)
        uri = try c.decodeIfPresent(String.self, forKey: .uri)
        renditions = try c.decodeIfPresent([Rendition].self, forKey: .renditions) ?? []
    }

    /// Stored without `renditions` when there are none, so that stories written before renditions
    /// existed keep the same stored form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(caption, forKey: .caption)
        try c.encodeIfPresent(creditline, forKey: .creditline)
        try c.encodeIfPresent(altText, forKey: .altText)
        try c.encodeIfPresent(photographer, forKey: .photographer)
        try c.encodeIfPresent(uri, forKey: .uri)
        if !renditions.isEmpty { try c.encode(renditions, forKey: .renditions) }
    }
}

/// One file of a picture: `highRes`, `web`, `thumb` (IPTC's rendition codes, without `rnd:`).
public struct Rendition: Codable, Equatable, Sendable {
    public var name: String
    public var href: String
    public var mediaType: String?
    public var width: Int?
    public var height: Int?

    public init(name: String, href: String, mediaType: String? = nil, width: Int? = nil, height: Int? = nil) {
        self.name = name
        self.href = href
        self.mediaType = mediaType
        self.width = width
        self.height = height
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case name, href, mediaType, width, height }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        href = try c.decode(String.self, forKey: .href)
        mediaType = try c.decodeIfPresent(String.self, forKey: .mediaType)
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        height = try c.decodeIfPresent(Int.self, forKey: .height)
    }
}

/// A story as stored: its content plus what the server keeps about it.
public struct Story: Equatable, Sendable {
    public var id: UUID
    public var state: StoryState
    public var version: Int
    public var content: StoryContent
    public var createdAt: Date
    public var createdBy: String
    public var updatedAt: Date
    public var updatedBy: String
    public var publishedAt: Date?
    public var corrections: [Correction]
    public var killNotice: String?
    /// The desk the story belongs to (`desks`), and the user it is assigned to: the desk's, not the
    /// copy's, so changed by assignment (`StoryStore.assign`), never by an edit.
    public var desk: String? = nil
    public var assignee: String? = nil
}

/// A note published with a correction to a live story.
public struct Correction: Codable, Equatable, Sendable {
    public var version: Int
    public var note: String
    public var at: Date
}

extension Story: Encodable {
    enum ServerKeys: String, CodingKey {
        case id, state, version, createdAt, createdBy, updatedAt, updatedBy, publishedAt, corrections, killNotice
        case desk, assignee
    }

    /// Content and server fields sit side by side, as in the story document.
    public func encode(to encoder: any Encoder) throws {
        try content.encode(to: encoder)
        var c = encoder.container(keyedBy: ServerKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(state, forKey: .state)
        try c.encode(version, forKey: .version)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(updatedBy, forKey: .updatedBy)
        try c.encodeIfPresent(publishedAt, forKey: .publishedAt)
        try c.encode(corrections, forKey: .corrections)
        try c.encodeIfPresent(killNotice, forKey: .killNotice)
        try c.encodeIfPresent(desk, forKey: .desk)
        try c.encodeIfPresent(assignee, forKey: .assignee)
    }
}

extension StoryContent {
    /// Whether a reader would see no difference: the two differ at most in the desk's internal
    /// fields (the editor's note), which are never published.
    public func sameForReaders(as other: StoryContent) -> Bool {
        var a = self
        var b = other
        a.ednote = nil
        b.ednote = nil
        return a == b
    }
}
