import Foundation

/// The scorer kinds an eval set's settings can name, each listed once: a settings file's
/// `"type"` is looked up here, and messages name them in this order. A new scorer is a type
/// conforming to `Scorer` (`JudgedScorer` when a judge model grades it) in `Scorers/`, and one
/// line here.
package enum Scorers {
    package static let all: [any Scorer.Type] = [
        ExactScorer.self,
        NormalizedScorer.self,
        ContainsScorer.self,
        RegexScorer.self,
        LabelScorer.self,
        JSONFieldsScorer.self,
        NumericScorer.self,
        TokenF1Scorer.self,
        RougeLScorer.self,
        ChrFScorer.self,
        LevenshteinScorer.self,
        RubricScorer.self,
        LogprobLabelScorer.self,
    ]

    /// The kind a settings file calls `name`, if there is one.
    package static func kind(named name: String) -> (any Scorer.Type)? {
        all.first { $0.name == name }
    }

    /// The first value listed twice, for settings that must not repeat one.
    static func firstRepeat(_ values: [String]) -> String? {
        var seen = Set<String>()
        return values.first { !seen.insert($0).inserted }
    }
}
