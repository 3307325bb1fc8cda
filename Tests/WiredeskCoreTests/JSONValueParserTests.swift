import Foundation
import Testing
import WiredeskCore
import WiredeskTestSupport

/// `JSONValue(parsing:)` reads what the Decodable path reads, and refuses what it refuses.
@Suite struct JSONValueParserTests {
    static func decoded(_ text: String) throws -> JSONValue {
        try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func documentsReadAsTheDecoderReadsThem() throws {
        var documents = [
            String(decoding: try TestDatabase.fixture("almaty.json"), as: UTF8.self),
            #"{"a": [1, -2.5, 3e2, 0, -0, 1E-3, true, false, null, "x"], "b": {}, "c": [], "": ""}"#,
            #"  "tab\tquote\" slash\/ back\\ nl\n uni\u00e9 pair\ud83d\udcf0 nul\u0000 ctl\u001f"  "#,
            #"["Almaty — ALMATY, Jan 7 (Reuters) 📰", 12345678901234, 0.1]"#,
            "[[[[[[[[[[]]]]]]]]]]", "0", "-1.25e-7", "\"\"",
        ]
        documents.append(String(decoding: try JSONCoding.encode(try Newsroom.almaty()), as: UTF8.self))
        for text in documents {
            #expect(try JSONValue(parsing: Array(text.utf8)) == Self.decoded(text), "\(text.prefix(80))")
        }
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "[1] 2", "\"unterminated", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud83d alone\"",
        "\"\\udcf0 low first\"", "\"raw\u{01}control\"", "NaN", "1e400", "[\"a\" \"b\"]",
    ])
    func malformedTextIsRefused(_ text: String) {
        #expect(throws: WiredeskError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: WiredeskError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: WiredeskError.self) { try JSONValue(parsing: Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONValue(parsing: Array(fine.utf8)) }
    }
}
