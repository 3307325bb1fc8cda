import Foundation

/// Splits a SQL file into its statements. PostgreSQL's extended protocol, which postgres-nio
/// speaks, takes one statement per query, so a migration file is sent statement by statement.
/// Semicolons inside quotes, dollar-quoted bodies and comments do not split.
enum SQLScript {
    static func statements(_ sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0

        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !isOnlyComments(text) { statements.append(text) }
            current = .init()
        }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < chars.count && chars[i] != "\n" {
                    current.append(chars[i])
                    i += 1
                }
                continue
            }
            if c == "/" && next == "*" {
                var depth = 0
                repeat {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                        depth += 1
                        current.append(contentsOf: [chars[i], chars[i + 1]])
                        i += 2
                    } else if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" {
                        depth -= 1
                        current.append(contentsOf: [chars[i], chars[i + 1]])
                        i += 2
                    } else {
                        current.append(chars[i])
                        i += 1
                    }
                } while depth > 0 && i < chars.count
                continue
            }
            if c == "'" || c == "\"" {
                // Doubled quotes ('' or "") stay inside the literal; E'' escapes with a backslash.
                let escapes = c == "'" && i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                current.append(c)
                i += 1
                while i < chars.count {
                    let q = chars[i]
                    current.append(q)
                    i += 1
                    if escapes && q == "\\" && i < chars.count {
                        current.append(chars[i])
                        i += 1
                    } else if q == c {
                        if i < chars.count && chars[i] == c {
                            current.append(chars[i])
                            i += 1
                        } else {
                            break
                        }
                    }
                }
                continue
            }
            if c == "$", let tag = dollarTag(chars, at: i) {
                current.append(contentsOf: tag)
                i += tag.count
                while i < chars.count {
                    if chars[i] == "$", Array(chars[i..<min(i + tag.count, chars.count)]) == tag {
                        current.append(contentsOf: tag)
                        i += tag.count
                        break
                    }
                    current.append(chars[i])
                    i += 1
                }
                continue
            }
            if c == ";" {
                flush()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$name$` starting at `i`, unless the `$` is a parameter like `$1`.
    private static func dollarTag(_ chars: [Unicode.Scalar], at i: Int) -> [Unicode.Scalar]? {
        if i > 0, chars[i - 1].properties.isAlphabetic || chars[i - 1] == "_" || ("0"..."9").contains(chars[i - 1]) {
            return nil
        }
        var j = i + 1
        while j < chars.count,
            chars[j].properties.isAlphabetic || chars[j] == "_" || (j > i + 1 && ("0"..."9").contains(chars[j]))
        {
            j += 1
        }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return Array(chars[i...j])
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        var rest = Substring(text)
        while true {
            rest = rest.drop(while: \.isWhitespace)
            if rest.isEmpty { return true }
            if rest.hasPrefix("--") {
                rest = rest.drop(while: { $0 != "\n" })
            } else if rest.hasPrefix("/*"), let end = rest.range(of: "*/") {
                rest = rest[end.upperBound...]
            } else {
                return false
            }
        }
    }
}
