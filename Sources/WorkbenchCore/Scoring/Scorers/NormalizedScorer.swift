import Foundation

/// Equal after NFKC, case folding, dropping punctuation and collapsing whitespace.
package struct NormalizedScorer: PlainScorer {
    package static let name = "normalized"
    package static let isPassFail = true

    package init() {}

    package var baseline: ScorerBaseline { .answerSet(form: TextNormalizer.normalize) }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(TextNormalizer.normalize(output) == TextNormalizer.normalize(expected.text))
    }
}
