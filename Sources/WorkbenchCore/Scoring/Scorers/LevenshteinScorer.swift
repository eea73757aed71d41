import Foundation

/// One minus the character edit distance over the longer length, on normalized text.
package struct LevenshteinScorer: PlainScorer {
    package static let name = "levenshtein"
    package static let isPassFail = false

    package init() {}

    package var baseline: ScorerBaseline { .trivialFloor }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let a = Array(TextNormalizer.normalize(output))
        let b = Array(TextNormalizer.normalize(expected.text))
        let longest = max(a.count, b.count)
        guard longest > 0 else { return Score(value: 1) }
        return Score(value: 1 - Double(EditDistance.levenshtein(a, b)) / Double(longest))
    }
}
