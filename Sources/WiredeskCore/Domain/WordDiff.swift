import Foundation

/// Two texts compared word by word, for a side-by-side view: each side as runs of words kept and
/// words taken out (old) or put in (new). The longest common subsequence of words is quadratic:
/// beyond `maximumWords` on either side the texts are shown as changed whole.
public enum WordDiff {
    public struct Run: Equatable, Sendable {
        public var text: String
        public var changed: Bool

        public init(text: String, changed: Bool) {
            self.text = text
            self.changed = changed
        }
    }

    public static let maximumWords = 1500

    public static func compare(_ old: String, _ new: String) -> (old: [Run], new: [Run]) {
        let a = words(old)
        let b = words(new)
        guard a.count <= maximumWords, b.count <= maximumWords else {
            return ([Run(text: old, changed: true)], [Run(text: new, changed: true)])
        }
        // lengths[i][j]: the common subsequence of a[i...] and b[j...].
        var lengths = [[Int32]](repeating: [Int32](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i][j] = a[i] == b[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        var left: [Run] = []
        var right: [Run] = []
        func add(_ word: Substring, changed: Bool, to runs: inout [Run]) {
            if let last = runs.last, last.changed == changed {
                runs[runs.count - 1].text += word
            } else {
                runs.append(Run(text: String(word), changed: changed))
            }
        }
        var (i, j) = (0, 0)
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                add(a[i], changed: false, to: &left)
                add(b[j], changed: false, to: &right)
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lengths[i][j + 1] >= lengths[i + 1][j] {
                add(b[j], changed: true, to: &right)
                j += 1
            } else {
                add(a[i], changed: true, to: &left)
                i += 1
            }
        }
        return (left, right)
    }

    /// Words with the spaces after them, so that the runs put together give the text back.
    static func words(_ text: String) -> [Substring] {
        var words: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        var inSpace = false
        while index < text.endIndex {
            let isSpace = text[index].isWhitespace
            if inSpace, !isSpace {
                words.append(text[start..<index])
                start = index
            }
            inSpace = isSpace
            index = text.index(after: index)
        }
        if start < text.endIndex { words.append(text[start...]) }
        return words
    }
}
