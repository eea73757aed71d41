import Foundation

/// The output matches the settings' regular expression.
package struct RegexScorer: Scorer {
    package static let name = "regex"
    package static let isPassFail = true
    package static let settingKeys = ["pattern"]

    /// The pattern the output must match.
    package let pattern: String
    private let expression: NSRegularExpression?

    package init(pattern: String) {
        self.pattern = pattern
        self.expression = try? NSRegularExpression(pattern: pattern)
    }

    package init(settings: [String: JSONValue], labels: [String], field: String) throws {
        guard let pattern = settings["pattern"]?.stringValue else {
            throw InputError(field: field + ".pattern", "the regex scorer needs a pattern")
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            throw InputError(field: field + ".pattern", "\"\(pattern)\" is not a valid regular expression")
        }
        self.init(pattern: pattern)
    }

    package var settings: [String: JSONValue] { ["pattern": .string(pattern)] }

    /// How long one output may take to match. A sound pattern matches a model's answer in
    /// microseconds; one that backtracks catastrophically would take years, holding the actor
    /// that also handles Ctrl-C.
    package static let timeLimit = 0.5

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        (try? checkedScore(output, expected: expected, logprobs: logprobs)) ?? .pass(false)
    }

    package func checkedScore(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) throws -> Score? {
        .pass(try matches(output, within: RegexScorer.timeLimit))
    }

    /// Whether `output` matches, giving up after `seconds` (or when the task is cancelled):
    /// ICU calls the progress block every few thousand steps of a long match, which stops it.
    func matches(_ output: String, within seconds: Double) throws -> Bool {
        guard let expression else { return false }
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var found = false
        var gaveUp = false
        expression.enumerateMatches(
            in: output, options: [.reportProgress], range: NSRange(output.startIndex..., in: output)
        ) { result, _, stop in
            if result != nil {
                found = true
                stop.pointee = true
            } else if ContinuousClock.now > deadline || Task.isCancelled {
                gaveUp = true
                stop.pointee = true
            }
        }
        if found { return true }
        if gaveUp {
            try Task.checkCancellation()
            throw ScorerTooSlow(pattern: pattern, seconds: seconds)
        }
        return false
    }
}
