import Foundation
import NIOCore
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// Coded subjects on a story and renditions on its pictures: validated like every field, rendered
/// by PostgreSQL as Swift encodes them, and exported as ninjs that IPTC's schemas accept.
@Suite struct SubjectsAndRenditionsTests {
    static func content() throws -> StoryContent {
        var content = try Newsroom.almaty()
        content.subjects = [
            Subject(code: "medtop:11000000", name: "politics"), Subject(code: "http://cv.iptc.org/newscodes/mediatopic/16000000"),
            Subject(name: "Kazakhstan unrest"), Subject(code: "local code 7"),
        ]
        content.pictures = [
            Picture(
                caption: "Demonstrators in Aktobe", creditline: "Interior Ministry of Kazakhstan/ via REUTERS",
                uri: "tag:wire.example.com,2022:picture:aktobe",
                renditions: [
                    Rendition(
                        name: "highRes", href: "https://pictures.example.com/a.jpg", mediaType: "image/jpeg", width: 3000,
                        height: 2000),
                    Rendition(name: "print", href: "urn:archive:a.tif"),
                ])
        ]
        return content
    }

    @Test func subjectsAndRenditionsAreValidatedLikeEveryField() throws {
        try Self.content().validate()
        var content = try Self.content()
        content.subjects.append(Subject())
        content.pictures[0].renditions.append(Rendition(name: "x", href: "file:///etc/passwd"))
        content.pictures[0].renditions.append(Rendition(name: "y", href: "relative/path.jpg", width: 0))
        let error = try #require(throws: WiredeskError.self) { try content.validate() }
        #expect(
            error.fields.map(\.field) == [
                "subjects[4]", "pictures[0].renditions[2].href", "pictures[0].renditions[3].href",
                "pictures[0].renditions[3].width",
            ])
        // Strict decoding: a misspelt field is refused, not dropped.
        let subject = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(StoryContent.self, from: Data(#"{"subjects": [{"qcode": "medtop:1"}]}"#.utf8))
        }
        #expect(subject.message == "subjects[0].qcode: unknown field")
        let rendition = try #require(throws: WiredeskError.self) {
            try JSONCoding.decode(
                Picture.self, from: Data(#"{"renditions": [{"name": "a", "href": "https://x/a", "size": 1}]}"#.utf8))
        }
        #expect(rendition.message == "renditions[0].size: unknown field")
    }

    @Test func theyAreStoredRenderedAndExported() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story(try Self.content())
            let read = try await newsroom.stories.story(story.id, logger: newsroom.logger)
            #expect(read.content.subjects == (try Self.content()).subjects)
            #expect(read.content.pictures.first?.renditions.count == 2)
            let rendered = try await newsroom.stories.rendered(story.id, logger: newsroom.logger)
            #expect(try JSONCoding.decode(JSONValue.self, from: Data(buffer: rendered.json)) == (try JSONValue(encoding: read)))

            for version in Ninjs.ExportVersion.allCases {
                let document = Ninjs.export(read, as: version)
                let (ok, report) = try await NinjsValidator.validate([document], as: version)
                #expect(ok, "\(version): \(report)")
                guard case .array(let subjects)? = document.field("subjects"),
                    case .array(let associations)? = document.field("associations"),
                    case .array(let renditions)? = associations.first?.field("renditions")
                else {
                    Issue.record("no subjects or renditions in \(version)")
                    continue
                }
                #expect(subjects.contains(.object(["name": .string("politics"), "uri": .string("medtop:11000000")])))
                #expect(subjects.contains(.object(["literal": .string("local code 7")])))
                // Only web links travel: the urn: rendition stays home.
                #expect(renditions.compactMap { $0.field("name")?.string } == ["highRes"])
                #expect(renditions.first?.field(version == .v3 ? "contentType" : "contenttype") == .string("image/jpeg"))
            }
        }
    }

    /// Stories written before subjects existed have none in their stored content: the rendering
    /// (migration 0013) lists them as empty, as Swift encodes them.
    @Test func aStoryWrittenBeforeSubjectsReadsWithAnEmptyList() async throws {
        try await Newsroom.with { newsroom in
            let story = try await newsroom.story()
            try await newsroom.database.rows(
                "UPDATE stories SET content = content - 'subjects' WHERE id = \(story.id)", logger: newsroom.logger)
            let rendered = try await newsroom.stories.rendered(story.id, logger: newsroom.logger)
            let document = try JSONCoding.decode(JSONValue.self, from: Data(buffer: rendered.json))
            #expect(document.field("subjects") == .array([]))
            let read = try await newsroom.stories.story(story.id, logger: newsroom.logger)
            #expect(document == (try JSONValue(encoding: read)))
        }
    }
}
