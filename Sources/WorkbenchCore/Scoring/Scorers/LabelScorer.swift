import Foundation

/// Classification: finds which label the output gives, even in a verbose answer, and compares it
/// with the expected label. The detail records the label found (`predicted`), or none.
package struct LabelScorer: LabelListScorer {
    package static let name = "label"
    package static let isPassFail = true

    package let labels: [String]
    private let normalizedLabels: [(label: String, normalized: String)]

    package init(labels: [String]) {
        self.labels = labels
        self.normalizedLabels = labels.map { ($0, TextNormalizer.normalize($0)) }
    }

    package func summarize(_ scored: [(score: Score, expected: JSONValue)], into summary: inout ScorerSummary) {
        LabelSettings.summarize(scored, labels: labels, into: &summary)
    }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let predicted = predict(output)
        let expectedLabel = label(matching: expected.text) ?? expected.text
        return .pass(predicted == expectedLabel, detail: ["predicted": predicted.map { .string($0) } ?? .null])
    }

    func label(matching text: String) -> String? {
        let normalized = TextNormalizer.normalize(text)
        return normalizedLabels.first { $0.normalized == normalized }?.label
    }

    /// The label the output states: the whole output, else the label mentioned first (as a
    /// whole word where words are spaced, anywhere in text without spaces).
    package func predict(_ output: String) -> String? {
        let text = TextNormalizer.normalize(output)
        if let exact = normalizedLabels.first(where: { $0.normalized == text }) { return exact.label }
        var best: (label: String, position: String.Index, length: Int)?
        for (label, normalized) in normalizedLabels where !normalized.isEmpty {
            var searchStart = text.startIndex
            while let range = text.range(of: normalized, range: searchStart..<text.endIndex) {
                if isWholeWord(range, in: text, label: normalized) {
                    // Earliest wins; at the same place, the longer label ("not spam" over "spam").
                    if best == nil || range.lowerBound < best!.position
                        || (range.lowerBound == best!.position && normalized.count > best!.length)
                    {
                        best = (label, range.lowerBound, normalized.count)
                    }
                    break
                }
                searchStart = text.index(after: range.lowerBound)
            }
        }
        return best?.label
    }

    private func isWholeWord(_ range: Range<String.Index>, in text: String, label: String) -> Bool {
        if let first = label.unicodeScalars.first, TextNormalizer.isSpacelessScript(first) { return true }
        let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
        let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
        let isWordCharacter = { (c: Character?) -> Bool in
            guard let c, let scalar = c.unicodeScalars.first else { return false }
            return (c.isLetter || c.isNumber) && !TextNormalizer.isSpacelessScript(scalar)
        }
        return !isWordCharacter(before) && !isWordCharacter(after)
    }
}

/// The `labels` setting of the scorers that read labels, and what they report.
enum LabelSettings {
    /// Reads `labels`, or takes the eval set's when the entry lists none.
    static func parse(_ settings: [String: JSONValue], default defaultLabels: [String], field: String, scorer: String)
        throws -> [String]
    {
        var labels = defaultLabels
        if let raw = settings["labels"] {
            guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw InputError(field: field + ".labels", "must be a list of texts")
            }
            labels = items.compactMap(\.stringValue)
        }
        guard labels.count >= 2 else {
            throw InputError(field: field + ".labels", "the \(scorer) scorer needs at least two labels")
        }
        if let empty = labels.first(where: { $0.trimmingWhitespace().isEmpty }) {
            throw InputError(field: field + ".labels", "a label is empty (\"\(empty)\")")
        }
        if let repeated = Scorers.firstRepeat(labels.map(TextNormalizer.normalize)) {
            throw InputError(field: field + ".labels", "the label \"\(repeated)\" is listed twice")
        }
        return labels
    }

    static func json(_ labels: [String]) -> [String: JSONValue] {
        labels.isEmpty ? [:] : ["labels": .array(labels.map { .string($0) })]
    }

    /// Adds macro-F1 and the confusion matrix, from each score's `predicted` label.
    static func summarize(
        _ scored: [(score: Score, expected: JSONValue)], labels: [String], into summary: inout ScorerSummary
    ) {
        guard !scored.isEmpty else { return }
        let pairs = scored.map { ($0.expected.text, $0.score.detail?["predicted"]?.stringValue) }
        let (f1, confusion) = ScoreAggregation.macroF1(pairs, labels: labels)
        summary.macroF1 = f1
        summary.confusion = confusion
        summary.labels = labels
    }
}
