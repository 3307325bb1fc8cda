import Foundation
import PropertyBased
import Testing
import WiredeskTestSupport

@testable import WiredeskCore

/// Every parser that reads outside input does work in proportion to it: no shape of copy, however
/// hostile, makes it rescan what it has read. Shown two ways: adversarial inputs whose parse time
/// must grow linearly (four times the input, at most 2.5² times the CPU time), and a fuzzer over
/// random copy built from the characters parsers care about.
@Suite(.serialized) struct HostileInputTests {
    /// Adversarial copy of about `size` bytes, by name.
    static let wireCases: [(String, @Sendable (Int) -> String)] = [
        ("a dateline then a run of spaces", { "MOSCOW," + String(repeating: " ", count: $0) + "(Reuters) - x" }),
        ("a dateline's comma, spaces and no agency", { "MOSCOW," + String(repeating: " ", count: $0) + "x" }),
        ("a place, commas and spaces", { "MOSCOW" + String(repeating: ", ", count: $0 / 2) + "x" }),
        ("a lead that breaks off at a carriage return", {
            "MOSCOW, Jan 6 (Reuters) - " + String(repeating: "a", count: $0) + "\rb"
        }),
        ("a place then spaces and no agency", { "ALMATY" + String(repeating: " ", count: $0) + "x" }),
        ("commas", { "A" + String(repeating: ", ", count: $0 / 2) }),
        ("quotes", { String(repeating: "\"", count: $0) }),
        ("angle brackets", { String(repeating: "<", count: $0) }),
        ("a colon dateline with spaces", { "ALMATY:" + String(repeating: " ", count: $0) + "\r" }),
        ("capitals and spaces", { String(repeating: "A ", count: $0 / 2) }),
        ("lines that look like datelines", {
            String(repeating: "MOSCOW, Jan 6 (Reuters) - x\n", count: $0 / 28)
        }),
        ("lines that look like trailers", { String(repeating: "Reuters\nFri Jan 07 2022\n", count: $0 / 24) }),
    ]

    static let htmlCases: [(String, @Sendable (Int) -> String)] = [
        ("unclosed script tags", { String(repeating: "<script>", count: $0 / 8) }),
        ("an unclosed style, then text", { "<style>" + String(repeating: "a < b ", count: $0 / 6) }),
        ("angle brackets", { String(repeating: "<", count: $0) }),
        ("unclosed tags", { String(repeating: "<div ", count: $0 / 5) }),
        ("deeply nested blocks", { String(repeating: "<div><p>", count: $0 / 8) + "x" }),
        ("headings", { String(repeating: "<h2>A</h2>", count: $0 / 10) }),
        ("entity starts", { String(repeating: "&#", count: $0 / 2) }),
        ("script close tags split by other tags", { String(repeating: "<script></scrip", count: $0 / 15) }),
    ]

    /// Agency XML (NewsML-G2 and NITF go through the same reader): every case is read to its end
    /// or refused, never rescanned.
    static let xmlCases: [(String, @Sendable (Int) -> String)] = [
        (
            "many elements and attributes",
            {
                #"<newsItem guid="g"><contentSet><inlineXML><html><body>"#
                    + String(repeating: #"<p a="1" b='2' c="&amp;">x &lt; y</p>"#, count: $0 / 40)
                    + "</body></html></inlineXML></contentSet></newsItem>"
            }
        ),
        ("deep nesting", { String(repeating: "<a>", count: $0 / 3) }),
        ("an unclosed comment of dashes", { "<newsItem><!--" + String(repeating: "-", count: $0) }),
        ("an unclosed CDATA of brackets", { "<newsItem><![CDATA[" + String(repeating: "]]", count: $0 / 2) }),
        ("a DOCTYPE of quotes", { "<!DOCTYPE x [" + String(repeating: "\"'", count: $0 / 2) }),
        ("ampersands without semicolons", { "<newsItem>" + String(repeating: "&amp", count: $0 / 4) }),
        (
            "one long text with references",
            {
                "<nitf><body><body.content><p>" + String(repeating: "a &#233; ", count: $0 / 9)
                    + "</p></body.content></body></nitf>"
            }
        ),
        ("an unclosed attribute value", { "<newsItem guid=\"" + String(repeating: "a", count: $0) }),
        // A package takes in the items it names that came with it: each is read once, however many
        // packages name it.
        (
            "many packages naming one large item",
            { size in
                let reference =
                    #"<packageItem guid="p" version="1"><groupSet><group><itemRef residref="t"/></group></groupSet></packageItem>"#
                return #"<newsMessage><itemSet><newsItem guid="t"><contentSet><inlineXML><html><body>"#
                    + String(repeating: "<p>Paragraph.</p>", count: size / 2 / 17)
                    + "</body></html></inlineXML></contentSet></newsItem>"
                    + String(repeating: reference, count: size / 2 / reference.utf8.count) + "</itemSet></newsMessage>"
            }
        ),
    ]

    static let jsonCases: [(String, @Sendable (Int) -> String)] = [
        ("nested arrays", { String(repeating: "[", count: $0) }),
        ("nested objects", { String(repeating: #"{"a":"#, count: $0 / 5) + "1" + String(repeating: "}", count: $0 / 5) }),
        ("a long run of spaces", { #"{"uri": "urn:x", "headline": "a"# + String(repeating: " ", count: $0) + #""}"# }),
    ]

    /// A ninjs item whose HTML body is `html`.
    static func ninjs(html: String) -> Data {
        let item: [String: Any] = [
            "uri": "urn:test:html", "headlines": [["role": "main", "value": "Hostile"]],
            "bodies": [["role": "main", "contentType": "text/html", "value": html]],
        ]
        return try! JSONSerialization.data(withJSONObject: item)
    }

    /// Parses as ingest does; only our own errors may come out.
    static func parse(_ data: Data, _ format: IngestFormat) throws {
        do {
            let parsed = try IngestService.parse(data, format: format)
            _ = try? parsed.content.validate()
        } catch is WiredeskError {
            // A refusal is an answer.
        }
    }

    @Test(arguments: wireCases.indices)
    func wireTextParsesInLinearTime(_ index: Int) async throws {
        let (name, make) = Self.wireCases[index]
        try await Self.expectLinear(name) { size in (Data(make(size).utf8), .wireText) }
    }

    @Test(arguments: htmlCases.indices)
    func htmlBodiesParseInLinearTime(_ index: Int) async throws {
        let (name, make) = Self.htmlCases[index]
        try await Self.expectLinear(name) { size in (Self.ninjs(html: make(size)), .ninjs) }
    }

    @Test(arguments: jsonCases.indices)
    func ninjsJSONParsesInLinearTime(_ index: Int) async throws {
        let (name, make) = Self.jsonCases[index]
        try await Self.expectLinear(name) { size in (Data(make(size).utf8), .ninjs) }
    }

    /// Four times the input takes at most 2.5² times the CPU time (a doubling at most 2.5 times),
    /// best of seven runs of each size, taken in turn so that a busy spell does not fall on one
    /// size only (CI once saw 6.5 times); quadratic work takes 16 times. The timing runs on a
    /// thread of its own, where nothing else competes for it.
    static func expectLinear(
        _ name: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ input: @escaping @Sendable (Int) -> (Data, IngestFormat)
    ) async throws {
        let small = 32 << 10
        let (base, large) = try await onOwnThread {
            let inputs = [small / 8, small, small * 4].map(input)
            func time(_ index: Int) throws -> Double {
                let start = threadCPUTime()
                try parse(inputs[index].0, inputs[index].1)
                return threadCPUTime() - start
            }
            _ = try time(0)  // warm up: first calls initialise tables and caches
            var best = (base: Double.infinity, large: Double.infinity)
            for _ in 0..<7 {
                best.base = min(best.base, try time(1))
                best.large = min(best.large, try time(2))
            }
            return best
        }
        // A floor of a millisecond keeps timer noise on tiny times from deciding.
        #expect(
            large <= 6.25 * max(base, 0.001), "\(name): \(small) bytes took \(base * 1000) ms, four times as many \(large * 1000) ms",
            sourceLocation: sourceLocation)
    }

    static func threadCPUTime() -> Double {
        Double(threadCPUNanoseconds()) / 1e9
    }

    // MARK: Fuzzing

    /// The characters the parsers branch on, and a few others: random copy made of them reaches
    /// the datelines, trailers, tags, entities and escapes.
    static let alphabet: [Character] = Array(
        "<>/=\"'&#;:,.-–—()[]{} \n\r\tABCRSTZ aeimnoprstxy019\u{0}\u{1}\u{92}\u{2028}é’ReutersAPdpa")

    static let pieces = [
        "<script>", "</script>", "<style>", "<p>", "</p>", "<h2>", "&#146;", "&amp;", "&#x", "MOSCOW, Jan 6 (Reuters) - ",
        "ALMATY: ", "Reuters\n", "Fri Jan 07 2022\n", " - Interior Ministry/ via REUTERS\n", "\"ATTACK\"\n",
        #"{"uri": "urn:x", "#, #""headlines": [{"value": "#, #""bodies": [{"contentType": "text/html", "value": "#,
        "<?xml version='1.0'?>", #"<newsItem guid="g" version="1">"#, "</newsItem>", "<nitf>", "<body.content>",
        "<hl2>", "<!DOCTYPE x [", "<!ENTITY e 'x'>", "]>", "<![CDATA[", "]]>", "<!--", "-->", "&lt;", "&#x41;",
        "<remoteContent href='https://x/y.jpg' rendition='rnd:web'/>", "<itemSet>", "<newsMessage>",
    ]

    static let copy = Gen<String>.oneOf(
        Gen.element(of: alphabet).compactMap { $0 }.string(of: 0...400).withoutShrink(),
        Gen.element(of: pieces).compactMap { $0 }.array(of: 0...40).map { $0.joined() }.withoutShrink()
    )

    @Test(arguments: xmlCases.indices)
    func agencyXMLParsesInLinearTime(_ index: Int) async throws {
        let (name, make) = Self.xmlCases[index]
        try await Self.expectLinear(name) { size in (Data(make(size).utf8), .newsmlG2) }
    }

    /// Fixed seed, fixed count: the same inputs on every run, so a failure can be replayed.
    @Test func randomCopyNeverCrashesOrEscapesAsAnUnknownError() async throws {
        let seed = try #require(Xoshiro(seed: "V2lyZWRlc2sgaG9zdGlsZSBpbnB1dCBmdXp6IHNlZWQ="))
        let failures = try await onOwnThread { Self.fuzz(seed, iterations: 600) }
        #expect(failures.isEmpty, "\(failures.prefix(5).joined(separator: "\n"))")
    }

    /// What went wrong, one line per failing input.
    static func fuzz(_ seed: Xoshiro, iterations: Int) -> [String] {
        var rng = seed
        var failures: [String] = []
        let generator = Gen<String>.oneOf(Self.copy, Self.copy.map { $0 + $0 + $0 })
        for iteration in 0..<iterations {
            let text = generator.run(using: &rng)
            for format in IngestFormat.allCases {
                for data in [Data(text.utf8), Self.ninjs(html: text)] {
                    let start = Self.threadCPUTime()
                    do {
                        try Self.parse(data, format)
                    } catch {
                        failures.append("iteration \(iteration), \(format): \(error) for \(text.debugDescription.prefix(200))")
                    }
                    let spent = Self.threadCPUTime() - start
                    if spent > 0.5 { failures.append("iteration \(iteration): \(spent) s for \(data.count) bytes") }
                }
            }
        }
        return failures
    }

    @Test func cursorsAndMergePatchesTakeHostileInput() throws {
        for token in [
            String(repeating: "0", count: 200), String(repeating: "A", count: 10_000), "", "////", "%00",
            Data("9223372036854775807/x".utf8).base64EncodedString(),
        ] {
            for order in StoryQuery.Order.allCases {
                #expect(throws: WiredeskError.self) { try StoryQuery.Cursor(token: token, order: order) }
            }
        }
        // A patch nested as deep as JSON allows is refused by name, not by a crash.
        var patch = JSONValue.string("x")
        for _ in 0..<400 { patch = .object(["headline": patch]) }
        #expect(throws: (any Error).self) { try StoryContent().applying(patch) }
    }
}
