import Foundation

extension StubModel {
    /// A two-label task to measure a hosted fine-tune against: is the last whole number in the
    /// prompt even or odd? The base model answers right for `baseAccuracy` of the numbers, a
    /// tuned one (named as OpenAI names them, `ft:…`, or as Azure does, `….ft-…`) for
    /// `tunedAccuracy`. Number n is answered wrong when 37·n mod 100 falls below 100 × (1 −
    /// accuracy): over any hundred consecutive numbers exactly that share, spread evenly, and the
    /// same numbers every time.
    package static func parity(
        labels: (even: String, odd: String) = ("even", "odd"), baseAccuracy: Double = 0.60,
        tunedAccuracy: Double = 0.95, name: String = "stub-base"
    ) -> StubModel {
        let (even, odd) = labels
        let respond: @Sendable (Double, String) -> String = { accuracy, prompt in
            guard let number = lastNumber(in: prompt) else { return "unsure" }
            let right = number % 2 == 0 ? even : odd
            let wrong = number % 2 == 0 ? odd : even
            return Double((number * 37) % 100) < 100 * (1 - accuracy) ? wrong : right
        }
        var model = StubModel(name: name) { respond(baseAccuracy, $0) }
        model.answerByModel = { served, prompt in
            respond(isTunedName(served ?? "") ? tunedAccuracy : baseAccuracy, prompt)
        }
        return model
    }

    /// Whether `model` names a tuned model, as OpenAI (`ft:base:org:suffix:id`) or Azure
    /// (`base.ft-id`) names them.
    package static func isTunedName(_ model: String) -> Bool {
        model.hasPrefix("ft:") || model.contains(".ft-")
    }

    static func lastNumber(in text: String) -> Int? {
        var digits = ""
        var last: Int?
        for character in text + " " {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if !digits.isEmpty {
                last = Int(digits.suffix(9))
                digits = ""
            }
        }
        return last
    }
}
