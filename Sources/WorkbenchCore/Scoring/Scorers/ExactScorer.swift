import Foundation

/// The output, stripped of surrounding whitespace, equals the expected text.
public struct ExactScorer: PlainScorer {
    public static let name = "exact"
    public static let isPassFail = true

    public init() {}

    public var baseline: ScorerBaseline { .answerSet { $0.trimmingWhitespace() } }

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        .pass(output.trimmingWhitespace() == expected.text.trimmingWhitespace())
    }
}
