import Foundation

/// Agency XML (NewsML-G2, NITF) read by our own code, not FoundationXML: that is libxml2
/// underneath, which substitutes entities, and whether it resolves external ones or loads a DTD
/// depends on how libxml2 was built and on process-wide defaults — not ours to trust with hostile
/// input. This reader is non-validating and loads nothing, ever: a DOCTYPE is skipped, one that
/// declares entities is refused (so no XXE and no billion laughs), and a reference to any entity
/// but the five predefined ones is refused as undefined. It reads UTF-8 only, in one pass over the
/// bytes with an explicit stack for nesting (no recursion over the input's depth), so its time is
/// linear in the input; every limit is refused by name, with the line it was met on.
public enum XMLReader {
    public struct Limits: Sendable {
        /// The ingest body limit's ceiling.
        public var bytes = 16 << 20
        public var depth = 256
        public var attributes = 256
        /// In bytes, for element and attribute names (prefix included) and entity names.
        public var nameLength = 256
        /// Elements. A story has hundreds and a newsMessage of 500 items tens of thousands; a
        /// megabyte of nothing but `<p>x</p>` has 130,000, and building each costs the same.
        public var nodes = 50_000

        public init() {}
        public static let standard = Limits()
    }

    public struct Attribute: Sendable, Equatable {
        /// The local name (`lang` of `xml:lang`).
        public var name: String
        public var prefix: String?
        /// The namespace the prefix stands for; none for an unprefixed attribute.
        public var namespace: String?
        public var value: String
    }

    public enum Node: Sendable {
        // Boxed: a child moves into its parent as one reference, not field by field.
        indirect case element(Element)
        /// Character data, CDATA sections included, references decoded.
        case text(String)
    }

    public struct Element: Sendable {
        /// The local name (`newsItem`).
        public var name: String
        public var prefix: String?
        /// The namespace URI the element's prefix (or the default namespace) stands for.
        public var namespace: String?
        /// Without the `xmlns` declarations, which are read into `namespace`.
        public var attributes: [Attribute]
        public var children: [Node]
        /// Where the element is in the input, from its `<` to the end of its end tag: an item of a
        /// message can be kept byte for byte.
        public var byteRange: Range<Int>
    }

    public static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    /// The root element of `data`, an XML document.
    public static func parse(_ data: Data, limits: Limits = .standard) throws -> Element {
        guard data.count <= limits.bytes else {
            throw WiredeskError(.validation, "XML: the document is \(data.count) bytes, over the limit of \(limits.bytes)")
        }
        var parser = Parser(bytes: [UInt8](data), limits: limits)
        return try parser.document()
    }

    /// The local name of the root element, read from the prolog alone (for telling formats apart);
    /// nil when the input does not start like XML. Refuses what `parse` refuses in the prolog.
    public static func rootName(of data: Data) throws -> String? {
        var parser = Parser(bytes: [UInt8](data.prefix(Limits.standard.bytes)), limits: .standard)
        return try parser.rootName()
    }
}

extension XMLReader {
    struct Parser {
        let b: [UInt8]
        let limits: Limits
        var i = 0
        var nodes = 0

        init(bytes: [UInt8], limits: Limits) {
            self.b = bytes
            self.limits = limits
        }

        /// An element whose end tag has not come yet.
        struct Open {
            var element: Element
            var qualifiedName: ArraySlice<UInt8>
            /// Prefixes this element declared ("" for the default namespace), undone at its end.
            var declared: [String]
            var text: [UInt8] = []
        }

        /// Prefix to the namespaces it stands for, innermost last.
        var bindings: [String: [String]] = ["xml": [XMLReader.xmlNamespace]]

        // MARK: Errors

        func fail(_ message: String, at offset: Int? = nil) -> WiredeskError {
            WiredeskError(.validation, "XML line \(line(at: offset ?? i)): \(message)")
        }

        func line(at offset: Int) -> Int {
            var line = 1
            for byte in b[..<min(offset, b.count)] where byte == 0x0A { line += 1 }
            return line
        }

        // MARK: Prolog

        mutating func start() throws {
            if b.starts(with: [0xEF, 0xBB, 0xBF]) {
                i = 3
            } else if b.starts(with: [0xFE, 0xFF]) || b.starts(with: [0xFF, 0xFE]) {
                throw WiredeskError(.validation, "XML: the document is UTF-16; only UTF-8 is accepted")
            }
            if let bad = Self.firstInvalidUTF8(b) {
                throw fail("not UTF-8 (byte \(bad))", at: bad)
            }
            if matches("<?xml"), i + 5 < b.count, Self.isSpace(b[i + 5]) {
                try declaration()
            }
        }

        /// `<?xml version="1.0" encoding="UTF-8"?>`: anything but UTF-8 (or its subset ASCII) is refused.
        mutating func declaration() throws {
            guard let end = find([UInt8(ascii: "?"), UInt8(ascii: ">")], from: i) else {
                throw fail("the XML declaration is not closed")
            }
            let text = String(decoding: b[i..<end], as: UTF8.self)
            if let range = text.range(of: "encoding") {
                let rest = text[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
                if let quote = rest.first, quote == "\"" || quote == "'" {
                    let name = rest.dropFirst().prefix { $0 != quote }
                    let lower = name.lowercased()
                    guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(lower) else {
                        throw fail(
                            "the document declares encoding \"\(name.prefix(40))\"; only UTF-8 is accepted")
                    }
                }
            }
            i = end + 2
        }

        /// Comments, processing instructions, white space and a DOCTYPE, up to the root's `<`.
        mutating func prolog() throws {
            var sawDoctype = false
            while i < b.count {
                if Self.isSpace(b[i]) {
                    i += 1
                } else if matches("<!--") {
                    try comment()
                } else if matches("<?") {
                    try processingInstruction()
                } else if matches("<!DOCTYPE") {
                    guard !sawDoctype else { throw fail("a second DOCTYPE") }
                    sawDoctype = true
                    try doctype()
                } else if b[i] == UInt8(ascii: "<") {
                    return
                } else {
                    throw fail("text before the root element")
                }
            }
        }

        mutating func rootName() throws -> String? {
            let first = b.firstIndex { !Self.isSpace($0) && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
            guard let first, b[first] == UInt8(ascii: "<") else { return nil }
            try start()
            try prolog()
            guard i < b.count else { return nil }
            i += 1
            let name = try self.name()
            let qualified = String(decoding: name, as: UTF8.self)
            return qualified.split(separator: ":").last.map(String.init) ?? qualified
        }

        /// `<!DOCTYPE name SYSTEM "…" [ … ]>`: skipped, and nothing it names is ever loaded. An
        /// internal subset is read only to refuse entity declarations.
        mutating func doctype() throws {
            let start = i
            i += "<!DOCTYPE".utf8.count
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    try skipQuoted()
                case UInt8(ascii: "["):
                    i += 1
                    try internalSubset()
                case UInt8(ascii: ">"):
                    i += 1
                    return
                default:
                    i += 1
                }
            }
            throw fail("the DOCTYPE is not closed", at: start)
        }

        mutating func internalSubset() throws {
            while i < b.count {
                if matches("<!ENTITY") {
                    throw fail("entity declarations are refused (XML external entities / entity expansion)")
                } else if matches("<!--") {
                    try comment()
                } else if matches("<?") {
                    try processingInstruction()
                } else if b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                    try skipQuoted()
                } else if b[i] == UInt8(ascii: "]") {
                    i += 1
                    return
                } else {
                    i += 1
                }
            }
            throw fail("the DOCTYPE's internal subset is not closed")
        }

        mutating func skipQuoted() throws {
            let quote = b[i]
            guard let end = b[(i + 1)...].firstIndex(of: quote) else { throw fail("a quoted string is not closed") }
            i = end + 1
        }

        mutating func comment() throws {
            guard let end = find(Array("-->".utf8), from: i + 4) else { throw fail("a comment is not closed") }
            i = end + 3
        }

        mutating func processingInstruction() throws {
            guard let end = find([UInt8(ascii: "?"), UInt8(ascii: ">")], from: i + 2) else {
                throw fail("a processing instruction is not closed")
            }
            i = end + 2
        }

        // MARK: Document

        mutating func document() throws -> Element {
            try start()
            try prolog()
            guard i < b.count else { throw fail("no root element") }
            var stack: [Open] = []
            var root: Element?
            while i < b.count {
                let byte = b[i]
                if stack.isEmpty {
                    if Self.isSpace(byte) {
                        i += 1
                    } else if matches("<!--") {
                        try comment()
                    } else if matches("<?") {
                        try processingInstruction()
                    } else if root == nil, byte == UInt8(ascii: "<"), i + 1 < b.count,
                        b[i + 1] != UInt8(ascii: "/"), b[i + 1] != UInt8(ascii: "!")
                    {
                        if let element = try startTag(&stack) { root = element }
                    } else if root != nil, byte == UInt8(ascii: "<"), !matches("<!") && !matches("</") {
                        throw fail("a second root element")
                    } else if matches("<!DOCTYPE") {
                        throw fail("a DOCTYPE after the root element")
                    } else {
                        throw fail(root == nil ? "no root element" : "content after the root element")
                    }
                    continue
                }
                if byte != UInt8(ascii: "<") {
                    let end = b[i...].firstIndex(of: UInt8(ascii: "<")) ?? b.count
                    try decode(i, end, into: &stack[stack.count - 1].text)
                    i = end
                } else if matches("</") {
                    if let element = try endTag(&stack) { root = element }
                } else if matches("<!--") {
                    try comment()
                } else if matches("<![CDATA[") {
                    let from = i + 9
                    guard let end = find(Array("]]>".utf8), from: from) else { throw fail("a CDATA section is not closed") }
                    stack[stack.count - 1].text.append(contentsOf: b[from..<end])
                    i = end + 3
                } else if matches("<?") {
                    try processingInstruction()
                } else if matches("<!") {
                    throw fail(matches("<!DOCTYPE") ? "a DOCTYPE inside the root element" : "unexpected \"<!\"")
                } else {
                    if let element = try startTag(&stack) { root = element }
                }
            }
            if let open = stack.last {
                throw fail(
                    "the document ends inside <\(String(decoding: open.qualifiedName, as: UTF8.self))> "
                        + "(opened on line \(line(at: open.element.byteRange.lowerBound)))")
            }
            guard let root else { throw fail("no root element") }
            return root
        }

        /// Reads a start tag at `<`. Returns the element when it closes itself at the root.
        mutating func startTag(_ stack: inout [Open]) throws -> Element? {
            let start = i
            guard stack.count < limits.depth else {
                throw fail("elements are nested deeper than \(limits.depth) levels")
            }
            try count()
            i += 1
            let qualified = try name()
            var raw: [(name: ArraySlice<UInt8>, value: String)] = []
            var seen = Set<ArraySlice<UInt8>>()
            var selfClosing = false
            while true {
                let hadSpace = skipSpace()
                guard i < b.count else { throw fail("a start tag is not closed", at: start) }
                if b[i] == UInt8(ascii: ">") {
                    i += 1
                    break
                }
                if b[i] == UInt8(ascii: "/") {
                    guard i + 1 < b.count, b[i + 1] == UInt8(ascii: ">") else { throw fail("expected \"/>\"") }
                    i += 2
                    selfClosing = true
                    break
                }
                guard hadSpace else { throw fail("expected white space between attributes") }
                let attributeName = try name()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "=") else { throw fail("expected \"=\" after an attribute name") }
                i += 1
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else {
                    throw fail("an attribute value must be quoted")
                }
                let quote = b[i]
                guard let end = b[(i + 1)...].firstIndex(of: quote) else { throw fail("an attribute value is not closed") }
                if let lt = b[(i + 1)..<end].firstIndex(of: UInt8(ascii: "<")) {
                    throw fail("\"<\" in an attribute value", at: lt)
                }
                guard raw.count < limits.attributes else {
                    throw fail("more than \(limits.attributes) attributes on one element")
                }
                guard seen.insert(attributeName).inserted else {
                    throw fail("attribute \(String(decoding: attributeName, as: UTF8.self)) given twice")
                }
                var value: [UInt8] = []
                try decode(i + 1, end, into: &value, attribute: true)
                raw.append((attributeName, String(decoding: value, as: UTF8.self)))
                i = end + 1
            }

            var declared: [String] = []
            var attributes: [Attribute] = []
            for (name, value) in raw {
                let (prefix, local) = Self.split(name)
                if prefix == nil && local == "xmlns" {
                    bindings["", default: []].append(value)
                    declared.append("")
                } else if prefix == "xmlns" {
                    guard !value.isEmpty else { throw fail("namespace prefix \(local) bound to nothing") }
                    bindings[local, default: []].append(value)
                    declared.append(local)
                } else {
                    attributes.append(Attribute(name: local, prefix: prefix, namespace: nil, value: value))
                }
            }
            for index in attributes.indices {
                guard let prefix = attributes[index].prefix else { continue }
                attributes[index].namespace = try namespace(of: prefix)
            }
            let (prefix, local) = Self.split(qualified)
            let defaultNamespace = bindings[""]?.last.flatMap { $0.isEmpty ? nil : $0 }
            let element = Element(
                name: local, prefix: prefix, namespace: try prefix.map(namespace(of:)) ?? defaultNamespace,
                attributes: attributes, children: [], byteRange: start..<start)
            let open = Open(element: element, qualifiedName: qualified, declared: declared)
            stack.append(open)
            if selfClosing { return close(&stack) }
            return nil
        }

        /// Reads an end tag at `</`. Returns the root when it closes.
        mutating func endTag(_ stack: inout [Open]) throws -> Element? {
            let start = i
            i += 2
            let qualified = try name()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ">") else { throw fail("an end tag is not closed", at: start) }
            i += 1
            // Compared where it stands: a copy of the open element would retain all it holds.
            guard stack[stack.count - 1].qualifiedName.elementsEqual(qualified) else {
                let open = stack[stack.count - 1]
                throw fail(
                    "end tag </\(String(decoding: qualified, as: UTF8.self))> does not match "
                        + "<\(String(decoding: open.qualifiedName, as: UTF8.self))> "
                        + "(opened on line \(line(at: open.element.byteRange.lowerBound)))",
                    at: start)
            }
            return close(&stack)
        }

        /// Ends the innermost open element at `i`: its text is kept, its namespaces undone.
        mutating func close(_ stack: inout [Open]) -> Element? {
            var open = stack.removeLast()
            flushText(&open)
            open.element.byteRange = open.element.byteRange.lowerBound..<i
            for prefix in open.declared { bindings[prefix]?.removeLast() }
            guard !stack.isEmpty else { return open.element }
            flushText(&stack[stack.count - 1])
            stack[stack.count - 1].element.children.append(.element(open.element))
            return nil
        }

        func flushText(_ open: inout Open) {
            guard !open.text.isEmpty else { return }
            open.element.children.append(.text(String(decoding: open.text, as: UTF8.self)))
            open.text.removeAll()
        }

        mutating func count() throws {
            nodes += 1
            guard nodes <= limits.nodes else { throw fail("more than \(limits.nodes) elements") }
        }

        func namespace(of prefix: String) throws -> String {
            guard let uri = bindings[prefix]?.last else { throw fail("namespace prefix \(prefix) is not declared") }
            return uri
        }

        // MARK: Pieces

        /// A name at `i` (letters, digits, `_`, `-`, `.`, `:` and anything outside ASCII).
        mutating func name() throws -> ArraySlice<UInt8> {
            let start = i
            guard i < b.count, Self.isNameStart(b[i]) else { throw fail("expected a name") }
            while i < b.count, Self.isNameByte(b[i]) {
                i += 1
                guard i - start <= limits.nameLength else {
                    throw fail("a name longer than \(limits.nameLength) bytes", at: start)
                }
            }
            return b[start..<i]
        }

        /// Character data from `start` to `end`, references decoded. Only the five predefined
        /// entities and character references exist: no other is ever expanded.
        func decode(_ start: Int, _ end: Int, into out: inout [UInt8], attribute: Bool = false) throws {
            var j = start
            while j < end {
                let byte = b[j]
                if byte == UInt8(ascii: "&") {
                    let nameStart = j + 1
                    guard
                        let semicolon = b[nameStart..<min(end, nameStart + limits.nameLength + 1)].firstIndex(
                            of: UInt8(ascii: ";"))
                    else {
                        throw fail("\"&\" that starts no reference (write &amp;)", at: j)
                    }
                    let name = b[nameStart..<semicolon]
                    if name.first == UInt8(ascii: "#") {
                        guard let scalar = Self.characterReference(name.dropFirst()) else {
                            throw fail("&\(String(decoding: name, as: UTF8.self)); is not a character XML allows", at: j)
                        }
                        out.append(contentsOf: Array(String(scalar).utf8))
                    } else if let replacement = Self.predefined(name) {
                        out.append(replacement)
                    } else {
                        throw fail(
                            "undefined entity &\(String(decoding: name.prefix(64), as: UTF8.self)); "
                                + "(only &lt; &gt; &amp; &quot; &apos; and character references are read)", at: j)
                    }
                    j = semicolon + 1
                } else if attribute && (byte == 0x09 || byte == 0x0A || byte == 0x0D) {
                    out.append(0x20)
                    j += 1
                } else {
                    out.append(byte)
                    j += 1
                }
            }
        }

        static func predefined(_ name: ArraySlice<UInt8>) -> UInt8? {
            switch String(decoding: name, as: UTF8.self) {
            case "lt": UInt8(ascii: "<")
            case "gt": UInt8(ascii: ">")
            case "amp": UInt8(ascii: "&")
            case "quot": UInt8(ascii: "\"")
            case "apos": UInt8(ascii: "'")
            default: nil
            }
        }

        /// `#65` or `#x41` (without the `#`), if it names a character XML 1.0 allows.
        static func characterReference(_ digits: ArraySlice<UInt8>) -> Unicode.Scalar? {
            var digits = digits
            var radix: UInt32 = 10
            if digits.first == UInt8(ascii: "x") {
                radix = 16
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty, digits.count <= 8 else { return nil }
            var value: UInt32 = 0
            for byte in digits {
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - 0x30)
                case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt32(byte - 0x57)
                case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt32(byte - 0x37)
                default: return nil
                }
                value = value * radix + digit
            }
            let allowed =
                value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
                || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
            return allowed ? Unicode.Scalar(value) : nil
        }

        @discardableResult
        mutating func skipSpace() -> Bool {
            let start = i
            while i < b.count, Self.isSpace(b[i]) { i += 1 }
            return i > start
        }

        func matches(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard i + count <= b.count else { return false }
            return literal.withUTF8Buffer { literal in
                for k in 0..<count where b[i + k] != literal[k] { return false }
                return true
            }
        }

        /// Where `pattern` (a few bytes) next occurs from `start`: a short pattern compared at each
        /// position is still linear.
        func find(_ pattern: [UInt8], from start: Int) -> Int? {
            guard let first = pattern.first else { return nil }
            var j = start
            while j + pattern.count <= b.count {
                guard let at = b[j...].firstIndex(of: first) else { return nil }
                guard at + pattern.count <= b.count else { return nil }
                if b[at..<(at + pattern.count)].elementsEqual(pattern) { return at }
                j = at + 1
            }
            return nil
        }

        static func split(_ qualified: ArraySlice<UInt8>) -> (prefix: String?, local: String) {
            if let colon = qualified.firstIndex(of: UInt8(ascii: ":")) {
                return (
                    String(decoding: qualified[..<colon], as: UTF8.self),
                    String(decoding: qualified[(colon + 1)...], as: UTF8.self)
                )
            }
            return (nil, String(decoding: qualified, as: UTF8.self))
        }

        static func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
        }

        static func isNameStart(_ byte: UInt8) -> Bool {
            ASCII.isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte >= 0x80
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            isNameStart(byte) || ASCII.isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }

        /// The offset of the first byte that is not well-formed UTF-8 (overlong forms, surrogates
        /// and code points past U+10FFFF included), or nil.
        static func firstInvalidUTF8(_ b: [UInt8]) -> Int? {
            var j = 0
            while j < b.count {
                let lead = b[j]
                if lead < 0x80 {
                    j += 1
                    continue
                }
                let length: Int
                var low: UInt8 = 0x80
                var high: UInt8 = 0xBF
                switch lead {
                case 0xC2...0xDF: length = 2
                case 0xE0:
                    length = 3
                    low = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: length = 3
                case 0xED:
                    length = 3
                    high = 0x9F
                case 0xF0:
                    length = 4
                    low = 0x90
                case 0xF1...0xF3: length = 4
                case 0xF4:
                    length = 4
                    high = 0x8F
                default: return j
                }
                guard j + length <= b.count, (low...high).contains(b[j + 1]) else { return j }
                for k in 2..<max(2, length) where !(0x80...0xBF).contains(b[j + k]) { return j }
                j += length
            }
            return nil
        }
    }
}

// MARK: Reading the tree

extension XMLReader.Element {
    /// The child elements, in order.
    public var elements: [XMLReader.Element] {
        children.compactMap { if case .element(let element) = $0 { element } else { nil } }
    }

    /// The first child element with this local name (in any namespace: agencies differ in theirs).
    public func first(_ name: String) -> XMLReader.Element? {
        for child in children {
            if case .element(let element) = child, element.name == name { return element }
        }
        return nil
    }

    public func all(_ name: String) -> [XMLReader.Element] {
        elements.filter { $0.name == name }
    }

    /// Down a path of local names, first match at each step.
    public func first(_ path: String...) -> XMLReader.Element? {
        var element: XMLReader.Element? = self
        for name in path { element = element?.first(name) }
        return element
    }

    /// An unprefixed attribute, or one in `namespace`.
    public func attribute(_ name: String, namespace: String? = nil) -> String? {
        attributes.first { $0.name == name && $0.namespace == namespace }?.value
    }

    /// `xml:lang`.
    public var language: String? {
        attribute("lang", namespace: XMLReader.xmlNamespace)
    }

    /// All the text inside, in document order (walked with a stack of its own).
    public var text: String {
        var out = ""
        var pending: [ArraySlice<XMLReader.Node>] = [children[...]]
        while var nodes = pending.popLast() {
            guard let node = nodes.popFirst() else { continue }
            pending.append(nodes)
            switch node {
            case .text(let text): out += text
            case .element(let element): pending.append(element.children[...])
            }
        }
        return out
    }

    /// The first element inside named `name`, in document order, found without collecting the rest.
    public func firstDescendant(named name: String) -> XMLReader.Element? {
        var pending: [ArraySlice<XMLReader.Node>] = [children[...]]
        while var nodes = pending.popLast() {
            guard let node = nodes.popFirst() else { continue }
            pending.append(nodes)
            if case .element(let element) = node {
                if element.name == name { return element }
                pending.append(element.children[...])
            }
        }
        return nil
    }

    /// Every element inside (not this one), in document order.
    public var descendants: [XMLReader.Element] {
        var out: [XMLReader.Element] = []
        var pending: [ArraySlice<XMLReader.Node>] = [children[...]]
        while var nodes = pending.popLast() {
            guard let node = nodes.popFirst() else { continue }
            pending.append(nodes)
            if case .element(let element) = node {
                out.append(element)
                pending.append(element.children[...])
            }
        }
        return out
    }
}
