import Foundation

/// One scorer's result over a run: the mean with its 95% interval, and what its kind adds
/// (`Scorer.summarize`: macro-F1 and a confusion matrix for labels, log-loss and calibration for
/// probabilities, per-field accuracy for JSON).
package struct ScorerSummary: Sendable, Hashable {
    package var name: String
    package var isPassFail: Bool
    /// Outputs scored (errors and outputs this scorer cannot score are left out).
    package var count: Int
    package var interval: Interval
    package var macroF1: Double?
    /// Rows are the expected label, columns the predicted one; the last column is "no label".
    package var confusion: [[Int]]?
    package var labels: [String]?
    package var logLoss: Double?
    package var calibrationError: Double?
    package var fieldAccuracy: [String: Double]?
    /// Chance, the majority label and collapse, for label tasks (see `LabelBaseline`).
    package var baseline: LabelBaseline?
    /// What a trivial answer scores, for scorers that give partial credit.
    package var floor: TrivialFloor?

    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "n": .number(Double(count)), "score": .number(interval.estimate),
            "ci_low": .number(interval.lower), "ci_high": .number(interval.upper), "pass_fail": .bool(isPassFail),
        ]
        if let macroF1 { object["macro_f1"] = .number(macroF1) }
        if let confusion, let labels {
            object["confusion"] = [
                "labels": .array(labels.map { .string($0) } + ["(none)"]),
                "rows": .array(confusion.map { .array($0.map { .number(Double($0)) }) }),
            ]
        }
        if let logLoss { object["log_loss"] = .number(logLoss) }
        if let calibrationError { object["ece"] = .number(calibrationError) }
        if let fieldAccuracy { object["field_accuracy"] = .object(fieldAccuracy.mapValues { .number($0) }) }
        if let baseline { object["baseline"] = baseline.json }
        if let floor { object["floor"] = floor.json }
        return .object(object)
    }
}

package enum ScoreAggregation {
    /// Summarizes `scores` of one scorer (nil where an output could not be scored).
    /// - Parameters:
    ///   - expected: the expected answer of each scored case, for the confusion matrix.
    ///   - seed: the bootstrap's seed, so the interval is the same on every run.
    package static func summarize(spec: ScorerSpec, scores: [Score?], expected: [JSONValue], seed: UInt64 = 1)
        -> ScorerSummary
    {
        let scored: [(score: Score, expected: JSONValue)] = zip(scores, expected).compactMap { score, expectation in
            score.map { ($0, expectation) }
        }
        let values = scored.map(\.score.value)
        let isPassFail = spec.kind.isPassFail
        let interval =
            isPassFail
            ? Statistics.wilson(successes: scored.count { $0.score.passed == true }, trials: values.count)
            : Statistics.bootstrapMean(values, seed: seed)
        var summary = ScorerSummary(name: spec.name, isPassFail: isPassFail, count: values.count, interval: interval)
        spec.scorer.summarize(scored, into: &summary)
        return summary
    }

    /// Macro-averaged F1 over `labels` and the confusion matrix (an extra last column for
    /// outputs that named no label). Expected labels outside `labels` are matched by normalized text.
    package static func macroF1(_ pairs: [(expected: String, predicted: String?)], labels: [String]) -> (
        Double, [[Int]]
    ) {
        let normalizedLabels = labels.map(TextNormalizer.normalize)
        let index = { (text: String) -> Int? in
            labels.firstIndex(of: text) ?? normalizedLabels.firstIndex(of: TextNormalizer.normalize(text))
        }
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: labels.count + 1), count: labels.count)
        for (expected, predicted) in pairs {
            guard let row = index(expected) else { continue }
            let column = predicted.flatMap(index) ?? labels.count
            matrix[row][column] += 1
        }
        var f1s: [Double] = []
        for label in labels.indices {
            let truePositive = Double(matrix[label][label])
            let predictedCount = Double(matrix.map { $0[label] }.reduce(0, +))
            let actualCount = Double(matrix[label].reduce(0, +))
            guard actualCount > 0 || predictedCount > 0 else { continue }
            let precision = predictedCount > 0 ? truePositive / predictedCount : 0
            let recall = actualCount > 0 ? truePositive / actualCount : 0
            f1s.append(precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0)
        }
        return (Statistics.mean(f1s), matrix)
    }

    /// Expected calibration error with equal-width confidence bins: the case-weighted mean gap
    /// between confidence and accuracy in each bin.
    package static func expectedCalibrationError(confidences: [Double], correct: [Bool], bins: Int = 10) -> Double {
        guard !confidences.isEmpty else { return 0 }
        var sums = [(confidence: Double, correct: Double, count: Int)](repeating: (0, 0, 0), count: bins)
        for (confidence, isCorrect) in zip(confidences, correct) {
            let bin = min(bins - 1, max(0, Int(confidence * Double(bins))))
            sums[bin].confidence += confidence
            sums[bin].correct += isCorrect ? 1 : 0
            sums[bin].count += 1
        }
        var error = 0.0
        for bin in sums where bin.count > 0 {
            error +=
                Double(bin.count) / Double(confidences.count)
                * abs(bin.confidence / Double(bin.count) - bin.correct / Double(bin.count))
        }
        return error
    }
}
