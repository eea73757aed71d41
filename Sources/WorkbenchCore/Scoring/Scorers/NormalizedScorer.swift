import Foundation

/// Equal after NFKC, case folding, dropping punctuation and collapsing whitespace.
public struct NormalizedScorer: PlainScorer {
    public static let name = "normalized"
    public static let isPassFail = true

    public init() {}

    public var baseline: ScorerBaseline { .answerSet(form: TextNormalizer.normalize) }

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(TextNormalizer.normalize(output) == TextNormalizer.normalize(expected.text))
    }
}
