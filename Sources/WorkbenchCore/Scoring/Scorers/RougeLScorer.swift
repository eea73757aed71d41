import Foundation

/// ROUGE-L: the F1 of the longest common subsequence of tokens.
package struct RougeLScorer: PlainScorer {
    package static let name = "rouge_l"
    package static let isPassFail = false

    package init() {}

    package var baseline: ScorerBaseline { .trivialFloor }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let predicted = TextNormalizer.tokens(output)
        let reference = TextNormalizer.tokens(expected.text)
        if predicted.isEmpty && reference.isEmpty { return Score(value: 1) }
        guard !predicted.isEmpty, !reference.isEmpty else { return Score(value: 0) }
        let lcs = Double(EditDistance.longestCommonSubsequence(predicted, reference))
        guard lcs > 0 else { return Score(value: 0) }
        let precision = lcs / Double(predicted.count)
        let recall = lcs / Double(reference.count)
        return Score(value: 2 * precision * recall / (precision + recall))
    }
}
