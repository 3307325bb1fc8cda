import Foundation
import OpenAPIRuntime
import WiredeskCore

// Domain values to and from the generated `Components.Schemas` types, field by field.

extension StoryContent {
    init(_ document: Components.Schemas.StoryDocument) throws {
        var embargo: Date?
        if let text = document.embargo {
            guard JSONCoding.hasTimestampShape(text) else {
                throw WiredeskError.malformed(field: "embargo", "not an RFC 3339 timestamp (e.g. 2026-01-07T09:30:00Z)")
            }
            guard let date = JSONCoding.parseDate(text) else {
                throw WiredeskError.invalid(field: "embargo", JSONCoding.impossibleTimestamp)
            }
            embargo = date
        }
        self.init(
            headline: document.headline, slug: document.slug, standfirst: document.standfirst,
            dateline: document.dateline.map(Dateline.init), source: document.source,
            bylines: (document.bylines ?? []).map(Byline.init), creditline: document.creditline,
            copyright: document.copyright, language: document.language, urgency: document.urgency,
            keywords: document.keywords ?? [], subjects: (document.subjects ?? []).map(Subject.init),
            ednote: document.ednote, embargo: embargo,
            body: (document.body ?? []).map(BodyBlock.init), pictures: (document.pictures ?? []).map(Picture.init),
            teasers: (document.teasers ?? []).map { Teaser(headline: $0.headline, standfirst: $0.standfirst) })
    }
}

extension Dateline {
    init(_ dateline: Components.Schemas.Dateline) {
        self.init(place: dateline.place, date: dateline.date)
    }
}

extension Byline {
    init(_ byline: Components.Schemas.Byline) {
        self.init(name: byline.name, title: byline.title)
    }
}

extension BodyBlock {
    init(_ block: Components.Schemas.BodyBlock) {
        self.init(block.kind == .crosshead ? .crosshead : .paragraph, block.text)
    }
}

extension Picture {
    init(_ picture: Components.Schemas.Picture) {
        self.init(
            caption: picture.caption, creditline: picture.creditline, altText: picture.altText,
            photographer: picture.photographer, uri: picture.uri, renditions: (picture.renditions ?? []).map(Rendition.init))
    }
}

extension Rendition {
    init(_ rendition: Components.Schemas.Rendition) {
        self.init(
            name: rendition.name, href: rendition.href, mediaType: rendition.mediaType, width: rendition.width,
            height: rendition.height)
    }
}

extension Subject {
    init(_ subject: Components.Schemas.Subject) {
        self.init(code: subject.code, name: subject.name)
    }
}

extension Components.Schemas.Dateline {
    init(_ dateline: Dateline) {
        self.init(place: dateline.place, date: dateline.date)
    }
}

extension Components.Schemas.Byline {
    init(_ byline: Byline) {
        self.init(name: byline.name, title: byline.title)
    }
}

extension Components.Schemas.BodyBlock {
    init(_ block: BodyBlock) {
        self.init(kind: block.kind == .crosshead ? .crosshead : .paragraph, text: block.text)
    }
}

extension Components.Schemas.Picture {
    init(_ picture: Picture) {
        self.init(
            caption: picture.caption, creditline: picture.creditline, altText: picture.altText,
            photographer: picture.photographer, uri: picture.uri,
            renditions: picture.renditions.isEmpty ? nil : picture.renditions.map(Components.Schemas.Rendition.init))
    }
}

extension Components.Schemas.Rendition {
    init(_ rendition: Rendition) {
        self.init(
            name: rendition.name, href: rendition.href, mediaType: rendition.mediaType, width: rendition.width,
            height: rendition.height)
    }
}

extension Components.Schemas.Subject {
    init(_ subject: Subject) {
        self.init(code: subject.code, name: subject.name)
    }
}

extension Components.Schemas.StoryDocument {
    init(_ content: StoryContent) {
        self.init(
            headline: content.headline, slug: content.slug, standfirst: content.standfirst,
            dateline: content.dateline.map(Components.Schemas.Dateline.init), source: content.source,
            bylines: content.bylines.map(Components.Schemas.Byline.init), creditline: content.creditline,
            copyright: content.copyright, language: content.language, urgency: content.urgency,
            keywords: content.keywords, subjects: content.subjects.map(Components.Schemas.Subject.init),
            ednote: content.ednote, embargo: content.embargo.map(JSONCoding.formatDate),
            body: content.body.map(Components.Schemas.BodyBlock.init),
            pictures: content.pictures.map(Components.Schemas.Picture.init),
            teasers: content.teasers.map { .init(headline: $0.headline, standfirst: $0.standfirst) })
    }
}

extension Components.Schemas.Story {
    init(_ story: Story) {
        let c = story.content
        self.init(
            id: story.id.uuidString.lowercased(), state: .init(story.state), version: story.version,
            createdAt: story.createdAt, createdBy: story.createdBy, updatedAt: story.updatedAt,
            updatedBy: story.updatedBy, publishedAt: story.publishedAt,
            corrections: story.corrections.map { .init(version: $0.version, note: $0.note, at: $0.at) },
            killNotice: story.killNotice, desk: story.desk, assignee: story.assignee, headline: c.headline, slug: c.slug, standfirst: c.standfirst,
            dateline: c.dateline.map(Components.Schemas.Dateline.init), source: c.source,
            bylines: c.bylines.map(Components.Schemas.Byline.init), creditline: c.creditline, copyright: c.copyright,
            language: c.language, urgency: c.urgency, keywords: c.keywords,
            subjects: c.subjects.map(Components.Schemas.Subject.init), ednote: c.ednote, embargo: c.embargo,
            body: c.body.map(Components.Schemas.BodyBlock.init), pictures: c.pictures.map(Components.Schemas.Picture.init),
            teasers: c.teasers.map { .init(headline: $0.headline, standfirst: $0.standfirst) })
    }
}

extension Components.Schemas.StoryState {
    init(_ state: StoryState) {
        self = Self(rawValue: state.rawValue)!
    }
}

extension StoryState {
    init(_ state: Components.Schemas.StoryState) {
        self = Self(rawValue: state.rawValue)!
    }
}

extension Transition {
    init(_ transition: Components.Schemas.Transition) {
        self = Self(rawValue: transition.rawValue)!
    }
}

extension Components.Schemas.FieldChange {
    init(_ change: FieldChange) throws {
        self.init(
            field: change.field, from: try change.from.map { try OpenAPIValueContainer(unvalidatedValue: $0.openAPIValue) },
            to: try change.to.map { try OpenAPIValueContainer(unvalidatedValue: $0.openAPIValue) })
    }
}

extension Components.Schemas.Revision {
    init(_ revision: Revision) throws {
        self.init(
            storyId: revision.storyId.uuidString.lowercased(), number: revision.number, version: revision.version,
            state: .init(revision.state), content: .init(revision.content),
            diff: try revision.diff.map(Components.Schemas.FieldChange.init), createdAt: revision.createdAt,
            createdBy: revision.createdBy)
    }
}

extension Components.Schemas.RevisionSummary {
    init(_ summary: RevisionSummary) {
        self.init(
            storyId: summary.storyId.uuidString.lowercased(), number: summary.number, version: summary.version,
            state: .init(summary.state), changedFields: summary.changedFields, createdAt: summary.createdAt,
            createdBy: summary.createdBy)
    }
}

extension JSONValue {
    /// A merge patch as the OpenAPI runtime decoded it: `nil` values are JSON nulls.
    init(_ object: OpenAPIObjectContainer) throws {
        self = .object(try object.value.mapValues(JSONValue.init(any:)))
    }

    init(any value: (any Sendable)?) throws {
        switch value {
        case nil: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .number(Double(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let value as [(any Sendable)?]: self = .array(try value.map(JSONValue.init(any:)))
        case let value as [String: (any Sendable)?]: self = .object(try value.mapValues(JSONValue.init(any:)))
        default: throw WiredeskError.malformed(field: "", "unsupported JSON value")
        }
    }

    var openAPIValue: (any Sendable)? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? Int(value) : value
        case .string(let value): value
        case .array(let values): values.map(\.openAPIValue)
        case .object(let values): values.mapValues(\.openAPIValue)
        }
    }
}

extension Components.Schemas.IngestItem {
    init(_ item: IngestItem) {
        self.init(
            id: item.id.uuidString.lowercased(), storyId: item.storyId.uuidString.lowercased(), format: item.format,
            agencyUri: item.agencyUri, agencyVersion: item.agencyVersion, sha256: item.sha256, mediaType: item.mediaType,
            fileName: item.fileName, applied: item.applied, warnings: item.warnings, receivedAt: item.receivedAt,
            receivedBy: item.receivedBy)
    }
}
