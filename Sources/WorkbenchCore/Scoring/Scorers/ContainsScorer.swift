import Foundation

/// The normalized output contains the normalized expected text.
public struct ContainsScorer: PlainScorer {
    public static let name = "contains"
    public static let isPassFail = true

    public init() {}

    public func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let needle = TextNormalizer.normalize(expected.text)
        return .pass(!needle.isEmpty && TextNormalizer.normalize(output).contains(needle))
    }
}
