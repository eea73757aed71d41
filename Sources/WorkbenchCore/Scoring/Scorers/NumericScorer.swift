import Foundation

/// The first number in the output is within `tolerance` of the expected number.
package struct NumericScorer: Scorer {
    package static let name = "numeric"
    package static let isPassFail = true
    package static let settingKeys = ["tolerance"]

    /// Allowed absolute difference.
    package var tolerance: Double

    package init(tolerance: Double = 0) {
        self.tolerance = tolerance
    }

    package init(settings: [String: JSONValue], labels: [String], field: String) throws {
        self.init()
        if let raw = settings["tolerance"] {
            guard let tolerance = raw.doubleValue, tolerance >= 0 else {
                throw InputError(field: field + ".tolerance", "must be a number, 0 or more")
            }
            self.tolerance = tolerance
        }
    }

    package var settings: [String: JSONValue] { ["tolerance": .number(tolerance)] }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        let want = expected.doubleValue ?? NumericScorer.firstNumber(expected.text)
        guard let want else { return .pass(false) }
        guard let got = NumericScorer.firstNumber(output) else { return .pass(false, detail: ["found": .null]) }
        return .pass(abs(got - want) <= tolerance + 1e-12, detail: ["found": .number(got)])
    }

    /// The first number written in `text` (full-width digits and thousands separators allowed).
    package static func firstNumber(_ text: String) -> Double? {
        let normalized = text.precomposedStringWithCompatibilityMapping
        let pattern = try! NSRegularExpression(pattern: #"-?\d[\d,]*(\.\d+)?([eE][-+]?\d+)?|-?\.\d+"#)
        guard let match = pattern.firstMatch(in: normalized, range: NSRange(normalized.startIndex..., in: normalized)),
            let range = Range(match.range, in: normalized)
        else { return nil }
        return Double(normalized[range].replacingOccurrences(of: ",", with: ""))
    }
}
