/// A line-by-line difference between two texts, as `diff -u` would show it.
package struct LineDiff: Sendable, Equatable {
    package enum Line: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    package let lines: [Line]

    /// Compares `old` and `new` by their longest common subsequence of lines.
    package init(old: String, new: String) {
        let a = old.lines().map(String.init)
        let b = new.lines().map(String.init)
        // Trim the common prefix and suffix first: edits are usually small.
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix
            && a[a.count - 1 - suffix] == b[b.count - 1 - suffix]
        {
            suffix += 1
        }
        let midA = Array(a[prefix..<(a.count - suffix)])
        let midB = Array(b[prefix..<(b.count - suffix)])
        var table = [[Int]](repeating: [Int](repeating: 0, count: midB.count + 1), count: midA.count + 1)
        for i in stride(from: midA.count - 1, through: 0, by: -1) {
            for j in stride(from: midB.count - 1, through: 0, by: -1) {
                table[i][j] = midA[i] == midB[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var result = a[..<prefix].map(Line.same)
        var i = 0
        var j = 0
        while i < midA.count || j < midB.count {
            if i < midA.count && j < midB.count && midA[i] == midB[j] {
                result.append(.same(midA[i]))
                i += 1
                j += 1
            } else if i < midA.count && (j == midB.count || table[i + 1][j] >= table[i][j + 1]) {
                // Removals before additions, as `diff -u` shows a replaced line.
                result.append(.removed(midA[i]))
                i += 1
            } else {
                result.append(.added(midB[j]))
                j += 1
            }
        }
        result += a[(a.count - suffix)...].map(Line.same)
        lines = result
    }

    package var addedCount: Int { lines.count(where: { if case .added = $0 { true } else { false } }) }
    package var removedCount: Int { lines.count(where: { if case .removed = $0 { true } else { false } }) }
    package var isEmpty: Bool { addedCount == 0 && removedCount == 0 }

    /// Unified-diff hunks with `context` lines around each change, without the file header.
    package func unified(context: Int = 3) -> [String] {
        var changed: [Int] = []
        for (index, line) in lines.enumerated() {
            if case .same = line { continue }
            changed.append(index)
        }
        guard !changed.isEmpty else { return [] }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(lines.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var out: [String] = []
        for hunk in hunks {
            var oldStart = 1
            var newStart = 1
            for line in lines[..<hunk.lowerBound] {
                switch line {
                case .same:
                    oldStart += 1
                    newStart += 1
                case .removed: oldStart += 1
                case .added: newStart += 1
                }
            }
            var oldCount = 0
            var newCount = 0
            var body: [String] = []
            for line in lines[hunk] {
                switch line {
                case .same(let text):
                    oldCount += 1
                    newCount += 1
                    body.append(" " + text)
                case .removed(let text):
                    oldCount += 1
                    body.append("-" + text)
                case .added(let text):
                    newCount += 1
                    body.append("+" + text)
                }
            }
            out.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            out += body
        }
        return out
    }
}

extension StringProtocol {
    /// The lines of the text, split at `\n` and at `\r\n` (which Swift sees as one character,
    /// so splitting at `"\n"` alone leaves Windows files in one piece). Keeps empty lines.
    package func lines() -> [SubSequence] {
        split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    }
}
