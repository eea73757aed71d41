import Foundation

/// The F1 of shared tokens (words, or characters in text without spaces), SQuAD-style.
package struct TokenF1Scorer: PlainScorer {
    package static let name = "token_f1"
    package static let isPassFail = false

    package init() {}

    package var baseline: ScorerBaseline { .trivialFloor }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        Score(value: TokenF1Scorer.f1(TextNormalizer.tokens(output), TextNormalizer.tokens(expected.text)))
    }

    package static func f1(_ predicted: [String], _ reference: [String]) -> Double {
        if predicted.isEmpty && reference.isEmpty { return 1 }
        guard !predicted.isEmpty, !reference.isEmpty else { return 0 }
        var counts: [String: Int] = [:]
        for token in reference { counts[token, default: 0] += 1 }
        var common = 0
        for token in predicted where (counts[token] ?? 0) > 0 {
            counts[token]! -= 1
            common += 1
        }
        guard common > 0 else { return 0 }
        let precision = Double(common) / Double(predicted.count)
        let recall = Double(common) / Double(reference.count)
        return 2 * precision * recall / (precision + recall)
    }
}
