import Foundation
import WorkbenchCore

/// A run's scores read against their baselines: chance, the majority label and collapse for label
/// tasks, the trivial-answer floor for scorers that give partial credit.
enum RunBaselines {
    /// One scored (not failed) result of a run, as the baselines need it.
    struct Answered {
        var sample: Int
        /// The output, kept only for scorers whose baseline reads it (`ScorerBaseline.answerSet`).
        var output: String?
    }

    /// Whether a scorer's baseline reads the outputs themselves (it has no `predicted` label).
    static func needsOutputs(_ specs: [ScorerSpec]) -> Bool {
        specs.contains { $0.scorer.baseline.readsOutputs }
    }

    /// Sets `baseline` and `floor` on each summary.
    /// - Parameters:
    ///   - scores, expected: per scorer, one entry per scored result (as `ScoreAggregation` gets them).
    ///   - answered: one entry per scored result, in the same order.
    ///   - cases: the run's planned cases, for the floor (computed over them once, not per sample).
    static func attach(
        to summaries: inout [ScorerSummary], specs: [ScorerSpec], scores: [[Score?]], expected: [[JSONValue]],
        answered: [Answered], cases: [EvalCase], inputVariable: String?
    ) {
        for (index, spec) in specs.enumerated() where index < summaries.count {
            summaries[index].baseline = labelBaseline(
                spec: spec, scores: scores[index], expected: expected[index], answered: answered)
            summaries[index].floor = TrivialFloor.compute(
                spec: spec, expected: cases.map(\.expected),
                inputs: cases.map { $0.inputText(inputVariable: inputVariable) })
        }
    }

    /// The label baseline of one scorer, over the first sample of each scored case (several
    /// samples of a case are not independent trials). Nil for scorers without a label baseline,
    /// and for those read over the answers themselves when the expected answers are not a closed set.
    static func labelBaseline(spec: ScorerSpec, scores: [Score?], expected: [JSONValue], answered: [Answered])
        -> LabelBaseline?
    {
        // One entry per scored result in each list, or the answers would be read against the wrong cases.
        guard scores.count == answered.count, expected.count == answered.count else { return nil }
        var wanted: [String] = []
        var answers: [String?] = []
        var passed: [Bool] = []
        switch spec.scorer.baseline {
        case .predictedLabel(let labels):
            let normalized = labels.map(TextNormalizer.normalize)
            let canonical = { (text: String) -> String in
                normalized.firstIndex(of: TextNormalizer.normalize(text)).map { labels[$0] } ?? text
            }
            for (score, (expectation, result)) in zip(scores, zip(expected, answered)) where result.sample == 0 {
                guard let score else { continue }
                wanted.append(canonical(expectation.text))
                answers.append(score.detail?["predicted"]?.stringValue)
                passed.append(score.passed == true)
            }
            return LabelBaseline(expected: wanted, answers: answers, passed: passed, labels: labels)
        case .answerSet(let form):
            for (score, (expectation, result)) in zip(scores, zip(expected, answered)) where result.sample == 0 {
                guard let score else { continue }
                wanted.append(form(expectation.text))
                let answer = form(result.output ?? "")
                answers.append(answer.isEmpty ? nil : answer)
                passed.append(score.passed == true)
            }
            guard let labels = LabelBaseline.closedSet(wanted) else { return nil }
            return LabelBaseline(expected: wanted, answers: answers, passed: passed, labels: labels)
        case .none, .trivialFloor:
            return nil
        }
    }
}
