import Foundation

/// The output, stripped of surrounding whitespace, equals the expected text.
package struct ExactScorer: PlainScorer {
    package static let name = "exact"
    package static let isPassFail = true

    package init() {}

    package var baseline: ScorerBaseline { .answerSet { $0.trimmingWhitespace() } }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(output.trimmingWhitespace() == expected.text.trimmingWhitespace())
    }
}
