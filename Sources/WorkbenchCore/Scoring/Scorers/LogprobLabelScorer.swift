import Foundation

/// Classification from log-probabilities: the probability the model gives each label at the
/// first token where it answers, renormalized over the labels. Passes when the most probable
/// label is the expected one; the detail keeps the probabilities for log-loss and calibration.
package struct LogprobLabelScorer: LabelListScorer {
    package static let name = "logprob_label"
    package static let isPassFail = true
    package static let needsLogprobs = true

    package let labels: [String]

    package init(labels: [String]) {
        self.labels = labels
    }

    /// Adds macro-F1 and the confusion matrix, and log-loss and calibration error from the
    /// probabilities.
    package func summarize(_ scored: [(score: Score, expected: JSONValue)], into summary: inout ScorerSummary) {
        LabelSettings.summarize(scored, labels: labels, into: &summary)
        let probabilities = scored.compactMap { score, _ -> (confidence: Double, correct: Bool, pExpected: Double)? in
            guard let confidence = score.detail?["confidence"]?.doubleValue,
                let pExpected = score.detail?["p_expected"]?.doubleValue
            else { return nil }
            return (confidence, score.passed == true, pExpected)
        }
        guard !probabilities.isEmpty else { return }
        summary.logLoss = Statistics.mean(probabilities.map { -log(max($0.pExpected, 1e-12)) })
        summary.calibrationError = ScoreAggregation.expectedCalibrationError(
            confidences: probabilities.map(\.confidence), correct: probabilities.map(\.correct))
    }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let logprobs, let distribution = LogprobLabelScorer.distribution(logprobs, labels: labels) else {
            return nil
        }
        let expectedLabel =
            labels.first { TextNormalizer.normalize($0) == TextNormalizer.normalize(expected.text) }
            ?? expected.text
        let predicted = labels.max { distribution[$0]! < distribution[$1]! }!
        let probabilities = JSONValue.object(distribution.mapValues { .number($0) })
        return .pass(
            predicted == expectedLabel,
            detail: [
                "predicted": .string(predicted), "confidence": .number(distribution[predicted]!),
                "p_expected": .number(distribution[expectedLabel] ?? 0), "probabilities": probabilities,
            ])
    }

    /// Label probabilities from the top alternatives at the first generated token that is not
    /// whitespace: each alternative counts for the labels it begins. Nil when none does.
    package static func distribution(_ logprobs: [TokenLogprob], labels: [String]) -> [String: Double]? {
        let position = logprobs.first { !$0.token.trimmingWhitespace().isEmpty } ?? logprobs.first
        guard let position else { return nil }
        let normalizedLabels = labels.map { ($0, TextNormalizer.normalize($0)) }
        var mass: [String: Double] = Dictionary(uniqueKeysWithValues: labels.map { ($0, 0) })
        var alternatives = position.top
        if !alternatives.contains(where: { $0.token == position.token }) {
            alternatives.append(.init(token: position.token, logprob: position.logprob))
        }
        for alternative in alternatives {
            let token = TextNormalizer.normalize(alternative.token)
            guard !token.isEmpty else { continue }
            let matching = normalizedLabels.filter { $0.1.hasPrefix(token) || token.hasPrefix($0.1) }
            guard !matching.isEmpty else { continue }
            let probability = exp(alternative.logprob) / Double(matching.count)
            for (label, _) in matching { mass[label]! += probability }
        }
        let total = mass.values.reduce(0, +)
        guard total > 0 else { return nil }
        return mass.mapValues { $0 / total }
    }
}
