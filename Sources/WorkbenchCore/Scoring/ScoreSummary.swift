import Foundation

/// One scorer's result over a run: the mean with its 95% interval, and what its kind adds
/// (macro-F1 and a confusion matrix for labels, log-loss and calibration for probabilities,
/// per-field accuracy for JSON).
public struct ScorerSummary: Sendable, Hashable {
    public var name: String
    public var isPassFail: Bool
    /// Outputs scored (errors and outputs this scorer cannot score are left out).
    public var count: Int
    public var interval: Interval
    public var macroF1: Double?
    /// Rows are the expected label, columns the predicted one; the last column is "no label".
    public var confusion: [[Int]]?
    public var labels: [String]?
    public var logLoss: Double?
    public var calibrationError: Double?
    public var fieldAccuracy: [String: Double]?
    /// Chance, the majority label and collapse, for label tasks (see `LabelBaseline`).
    public var baseline: LabelBaseline?
    /// What a trivial answer scores, for scorers that give partial credit.
    public var floor: TrivialFloor?

    public var json: JSONValue {
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

public enum ScoreAggregation {
    /// Summarizes `scores` of one scorer (nil where an output could not be scored).
    /// - Parameters:
    ///   - expected: the expected answer of each scored case, for the confusion matrix.
    ///   - seed: the bootstrap's seed, so the interval is the same on every run.
    public static func summarize(spec: ScorerSpec, scores: [Score?], expected: [JSONValue], seed: UInt64 = 1)
        -> ScorerSummary
    {
        var values: [Double] = []
        var passes = 0
        var pairs: [(String, String?)] = []
        var probabilities: [(confidence: Double, correct: Bool, pExpected: Double)] = []
        var fieldHits: [String: Int] = [:]
        var fieldTotal = 0
        for (score, expectation) in zip(scores, expected) {
            guard let score else { continue }
            values.append(score.value)
            if score.passed == true { passes += 1 }
            if spec.kind == .label || spec.kind == .logprobLabel {
                pairs.append((expectation.text, score.detail?["predicted"]?.stringValue))
            }
            if spec.kind == .logprobLabel, let confidence = score.detail?["confidence"]?.doubleValue,
                let pExpected = score.detail?["p_expected"]?.doubleValue
            {
                probabilities.append((confidence, score.passed == true, pExpected))
            }
            if spec.kind == .json, let fields = score.detail?["fields"]?.objectValue {
                fieldTotal += 1
                for (field, hit) in fields where hit == .bool(true) { fieldHits[field, default: 0] += 1 }
            }
        }
        let interval =
            spec.kind.isPassFail
            ? Statistics.wilson(successes: passes, trials: values.count)
            : Statistics.bootstrapMean(values, seed: seed)
        var summary = ScorerSummary(
            name: spec.name, isPassFail: spec.kind.isPassFail, count: values.count, interval: interval)
        if !pairs.isEmpty {
            let (f1, confusion) = macroF1(pairs, labels: spec.labels)
            summary.macroF1 = f1
            summary.confusion = confusion
            summary.labels = spec.labels
        }
        if !probabilities.isEmpty {
            summary.logLoss = Statistics.mean(probabilities.map { -log(max($0.pExpected, 1e-12)) })
            summary.calibrationError = expectedCalibrationError(
                confidences: probabilities.map(\.confidence), correct: probabilities.map(\.correct))
        }
        if spec.kind == .json && !spec.fields.isEmpty && fieldTotal > 0 {
            summary.fieldAccuracy = Dictionary(
                uniqueKeysWithValues: spec.fields.map { ($0, Double(fieldHits[$0] ?? 0) / Double(fieldTotal)) })
        }
        return summary
    }

    /// Macro-averaged F1 over `labels` and the confusion matrix (an extra last column for
    /// outputs that named no label). Expected labels outside `labels` are matched by normalized text.
    public static func macroF1(_ pairs: [(expected: String, predicted: String?)], labels: [String]) -> (Double, [[Int]])
    {
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
    public static func expectedCalibrationError(confidences: [Double], correct: [Bool], bins: Int = 10) -> Double {
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

/// A model-graded rubric: the prompt a judge model answers, and the grade read from its answer.
public enum RubricJudge {
    /// The judge sees the task input, the reference answer, the answer to grade and the rubric,
    /// and answers with a grade from 1 to 5.
    public static func prompt(rubric: String, input: String, expected: String, output: String) -> String {
        """
        You are grading an answer against a rubric.

        Rubric: \(rubric)

        Task input:
        \(input)

        Reference answer: \(expected)

        Answer to grade: \(output.trimmingWhitespace())

        Grade the answer from 1 (fails the rubric) to 5 (fully meets it). Reply with the grade only.
        Grade:
        """
    }

    /// The grade in the judge's answer mapped to 0…1, or nil when it gave none.
    public static func score(judgeOutput: String) -> Score? {
        guard let digit = judgeOutput.first(where: { ("1"..."5").contains($0) }), let grade = Int(String(digit)) else {
            return nil
        }
        return Score(value: Double(grade - 1) / 4, detail: ["grade": .number(Double(grade))])
    }
}
