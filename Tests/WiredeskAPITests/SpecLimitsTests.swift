import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// The spec promises clients the limits the validator enforces. A drift either way is a request
/// the spec allows and the server refuses, or an answer outside its own schema (a revision's
/// content is a `StoryDocument`).
@Suite struct SpecLimitsTests {
    static let cases: [(schema: String, property: String, keyword: String, limit: Int)] = [
        ("StoryDocument", "headline", "maxLength", Limits.headline),
        ("StoryDocument", "slug", "maxLength", Limits.slug),
        ("StoryDocument", "standfirst", "maxLength", Limits.standfirst),
        ("StoryDocument", "source", "maxLength", Limits.shortText),
        ("StoryDocument", "creditline", "maxLength", Limits.creditline),
        ("StoryDocument", "copyright", "maxLength", Limits.copyright),
        ("StoryDocument", "language", "maxLength", Limits.language),
        ("StoryDocument", "ednote", "maxLength", Limits.ednote),
        ("StoryDocument", "keywords", "maxItems", Limits.keywords),
        ("StoryDocument", "keywords", "maxLength", Limits.keyword),
        ("StoryDocument", "bylines", "maxItems", Limits.bylines),
        ("StoryDocument", "body", "maxItems", Limits.bodyBlocks),
        ("StoryDocument", "pictures", "maxItems", Limits.pictures),
        ("StoryDocument", "teasers", "maxItems", Limits.teasers),
        ("StoryDocument", "subjects", "maxItems", Limits.subjects),
        ("Subject", "code", "maxLength", Limits.uri),
        ("Subject", "name", "maxLength", Limits.shortText),
        ("Picture", "renditions", "maxItems", Limits.renditions),
        ("Rendition", "name", "maxLength", Limits.renditionName),
        ("Rendition", "href", "maxLength", Limits.uri),
        ("Rendition", "mediaType", "maxLength", Limits.mediaType),
        ("Rendition", "width", "maximum", Limits.dimension),
        ("Dateline", "place", "maxLength", Limits.shortText),
        ("Byline", "name", "maxLength", Limits.shortText),
        ("Byline", "title", "maxLength", Limits.shortText),
        ("BodyBlock", "text", "maxLength", Limits.blockText),
        ("Picture", "caption", "maxLength", Limits.caption),
        ("Picture", "creditline", "maxLength", Limits.creditline),
        ("Picture", "altText", "maxLength", Limits.altText),
        ("Picture", "photographer", "maxLength", Limits.shortText),
        ("Picture", "uri", "maxLength", Limits.uri),
        ("Teaser", "headline", "maxLength", Limits.headline),
        ("Teaser", "standfirst", "maxLength", Limits.standfirst),
        ("TransitionRequest", "reason", "maxLength", Limits.reason),
    ]

    @Test(arguments: cases)
    func specLimitIsTheValidatorsLimit(_ schema: String, _ property: String, _ keyword: String, _ limit: Int) throws {
        let spec = try String(
            contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Sources/WiredeskAPI/openapi.yaml"), encoding: .utf8)
        let text = try #require(Self.property(property, of: schema, in: spec), "\(schema).\(property) is not in the spec")
        let match = try #require(
            text.firstMatch(of: try Regex("\(keyword): ([0-9]+)")), "\(schema).\(property) has no \(keyword)")
        #expect(Int(match.output[1].substring ?? "") == limit)
    }

    /// PATCH /v1/stories/{id}?reason=… takes what a transition's reason takes.
    @Test func editReasonParameterHasTheReasonLimit() throws {
        let spec = try String(
            contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Sources/WiredeskAPI/openapi.yaml"), encoding: .utf8)
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "    EditReason:"), "components.parameters.EditReason is not in the spec")
        let block = lines[(start + 1)...].prefix { $0.hasPrefix("      ") }.joined(separator: "\n")
        let match = try #require(block.firstMatch(of: /maxLength: ([0-9]+)/), "EditReason has no maxLength")
        #expect(Int(match.output.1) == Limits.reason)
    }

    /// The lines of one property of a component schema (the spec is indented two spaces a level).
    static func property(_ name: String, of schema: String, in spec: String) -> String? {
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "    \(schema):") else { return nil }
        let body = lines[(start + 1)...].prefix { $0.hasPrefix("     ") || $0.isEmpty }
        guard let first = body.firstIndex(where: { $0.hasPrefix("        \(name):") }) else { return nil }
        let rest = body[(first + 1)...].prefix { $0.hasPrefix("         ") }
        return ([body[first]] + rest).joined(separator: "\n")
    }
}
