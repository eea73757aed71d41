import Foundation

/// The normalized output contains the normalized expected text.
package struct ContainsScorer: PlainScorer {
    package static let name = "contains"
    package static let isPassFail = true

    package init() {}

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let needle = TextNormalizer.normalize(expected.text)
        return .pass(!needle.isEmpty && TextNormalizer.normalize(output).contains(needle))
    }
}
