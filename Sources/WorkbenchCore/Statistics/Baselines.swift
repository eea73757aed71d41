import Foundation

/// What a label task's score is read against: what guessing gets, what always answering the most
/// common expected label gets, whether the run beats the higher of the two, and whether the run's
/// answers collapsed onto one answer.
///
/// Build one from the scored cases of a run (one entry per case, in the same order):
///
/// ```swift
/// let baseline = LabelBaseline(
///     expected: ["2", "0", "2", …],      // the expected label of each scored case
///     answers: ["2", nil, "2", …],       // the label the model gave; nil for no answer
///     passed: [true, false, true, …],    // whether the case passed
///     labels: ["0", "1", "2", "3", "4"]) // the label set
/// baseline.chance           // 1 / 5 = 0.2: uniform guessing
/// baseline.majorityRate     // share of the most common expected label
/// baseline.referenceRate    // the higher of the two, which the run is tested against
/// baseline.p                // exact one-sided binomial p-value of the passes against it
/// baseline.isAbove          // p < 0.05: the run is significantly above the baseline
/// baseline.topAnswer        // the most common answer (nil: "no answer") …
/// baseline.topAnswerShare   // … and the share of cases it covers
/// baseline.isCollapsed      // that share is at least `collapseShare` (80%)
/// baseline.verdict          // "above chance, p = 0.003" / "not above the majority label (p = 0.412)"
/// baseline.collapseSentence // "answers '2' for 88% of cases", or nil
/// ```
///
/// Several samples of one case are not independent trials; give one sample per case.
package struct LabelBaseline: Sendable, Hashable {
    /// Which baseline a run is tested against: uniform guessing, or always the majority label.
    package enum Reference: String, Sendable, Hashable {
        case chance, majority
    }

    /// The significance level of `isAbove`.
    package static let alpha = 0.05
    /// The share of cases one answer must cover to count as a collapse.
    package static let collapseShare = 0.8

    /// How many labels an answer can be (at least 1).
    package var labelCount: Int
    /// One over the number of labels: what answering at random gets on average.
    package var chance: Double
    /// The most common expected label among the scored cases (nil when there are none).
    package var majorityLabel: String?
    /// The share of scored cases whose expected label is `majorityLabel`: what always answering it gets.
    package var majorityRate: Double
    /// The higher baseline (chance when they are equal).
    package var reference: Reference
    /// The rate of `reference`: the run is tested against it.
    package var referenceRate: Double
    package var successes: Int
    package var trials: Int
    /// P(X ≥ successes) for X ~ Binomial(trials, referenceRate): how likely a score this high is
    /// from a model no better than the baseline.
    package var p: Double
    /// The most common answer; nil when it is "no answer".
    package var topAnswer: String?
    /// The share of scored cases given `topAnswer` (0 when there are none).
    package var topAnswerShare: Double

    /// The run's score is significantly above the higher baseline.
    package var isAbove: Bool { p < LabelBaseline.alpha }
    /// One answer (or no answer) covers at least `collapseShare` of the cases.
    package var isCollapsed: Bool { trials > 0 && topAnswerShare >= LabelBaseline.collapseShare }
    /// The run's score: successes over trials.
    package var score: Double { trials > 0 ? Double(successes) / Double(trials) : 0 }

    /// - Parameters:
    ///   - expected: the expected label of each scored case.
    ///   - answers: the answer of each scored case, nil where the model gave none.
    ///   - passed: whether each scored case passed.
    ///   - labels: the label set (its size sets chance; its order breaks ties).
    package init(expected: [String], answers: [String?], passed: [Bool], labels: [String]) {
        precondition(
            expected.count == passed.count && answers.count == passed.count, "one entry per scored case in each list")
        let order = { (label: String?) -> Int in
            label.flatMap { labels.firstIndex(of: $0) } ?? labels.count
        }
        labelCount = max(1, Set(labels).count)
        chance = 1 / Double(labelCount)
        trials = passed.count
        successes = passed.count(where: { $0 })

        var expectedCounts: [String: Int] = [:]
        for label in expected { expectedCounts[label, default: 0] += 1 }
        let majority = expectedCounts.min { a, b in
            (a.value, -order(a.key), b.key) > (b.value, -order(b.key), a.key)
        }
        majorityLabel = majority?.key
        majorityRate = trials > 0 ? Double(majority?.value ?? 0) / Double(trials) : 0
        reference = majorityRate > chance ? .majority : .chance
        referenceRate = max(chance, majorityRate)
        p = Statistics.binomialUpperTail(successes: successes, trials: trials, probability: referenceRate)

        var answerCounts: [String?: Int] = [:]
        for answer in answers { answerCounts[answer, default: 0] += 1 }
        // Most common first; on a tie, a label before no answer, in the label set's order.
        let top = answerCounts.min { a, b in
            (a.value, -order(a.key), b.key ?? "") > (b.value, -order(b.key), a.key ?? "")
        }
        topAnswer = top?.key ?? nil
        topAnswerShare = trials > 0 ? Double(top?.value ?? 0) / Double(trials) : 0
    }

    /// "chance" or "the majority label": what the run is tested against, in words.
    package var referenceName: String { reference == .chance ? "chance" : "the majority label" }

    /// The test in words, as reports print it: "above chance, p = 0.003", "not above the majority
    /// label (p = 0.412)"; p below 0.001 reads "p < 0.001".
    package var verdict: String {
        let pText = "p" + Comparison.pNumber(p, spaced: true)
        return isAbove ? "above \(referenceName), \(pText)" : "not above \(referenceName) (\(pText))"
    }

    /// The collapse in words when there is one: "answers '2' for 88% of cases", "gives no answer
    /// for 100% of cases"; nil when no answer covers `collapseShare` of the cases.
    package var collapseSentence: String? {
        guard isCollapsed else { return nil }
        let share = "\(Int((topAnswerShare * 100).rounded()))% of cases"
        guard let topAnswer else { return "gives no answer for \(share)" }
        return "answers '\(topAnswer)' for \(share)"
    }

    /// The expected answers as a closed set of labels, for scorers without one (`exact`): the
    /// distinct values in order of first appearance when there are 2 to 10 of them and each is
    /// expected at least twice; nil when the answers are open-ended.
    package static func closedSet(_ expected: [String]) -> [String]? {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for value in expected {
            if counts[value] == nil { order.append(value) }
            counts[value, default: 0] += 1
        }
        guard (2...10).contains(order.count), counts.values.allSatisfy({ $0 >= 2 }) else { return nil }
        return order
    }

    package var json: JSONValue {
        [
            "labels": .number(Double(labelCount)), "chance": .number(chance),
            "majority_label": majorityLabel.map { .string($0) } ?? .null, "majority": .number(majorityRate),
            "reference": .string(reference.rawValue), "reference_rate": .number(referenceRate),
            "successes": .number(Double(successes)), "trials": .number(Double(trials)), "p": .number(p),
            "above": .bool(isAbove), "top_answer": topAnswer.map { .string($0) } ?? .null,
            "top_answer_share": .number(topAnswerShare), "collapsed": .bool(isCollapsed),
        ]
    }
}

/// The score a trivial answer gets on a scorer that gives partial credit: the floor a real answer
/// must clear. The trivial answers are the empty string and a copy of the case's input; the
/// floor is the higher of their mean scores.
package struct TrivialFloor: Sendable, Hashable {
    package enum Answer: String, Sendable, Hashable {
        case empty, input
    }

    /// The mean score of the better trivial answer.
    package var score: Double
    /// Which trivial answer that is.
    package var answer: Answer
    package var cases: Int

    /// The floor of `spec` over cases with these expected answers and inputs (same order), or nil
    /// for scorers without one (pass/fail scorers, rubric) or no cases.
    package static func compute(spec: ScorerSpec, expected: [JSONValue], inputs: [String]) -> TrivialFloor? {
        precondition(expected.count == inputs.count, "one input per expected answer")
        guard case .trivialFloor = spec.scorer.baseline, !expected.isEmpty else { return nil }
        let scorer = spec.scorer
        let mean = { (answers: [String]) -> Double in
            Statistics.mean(
                zip(answers, expected).map { scorer.score($0, expected: $1, logprobs: nil)?.value ?? 0 })
        }
        let empty = mean([String](repeating: "", count: expected.count))
        let copied = mean(inputs)
        return copied > empty
            ? TrivialFloor(score: copied, answer: .input, cases: expected.count)
            : TrivialFloor(score: empty, answer: .empty, cases: expected.count)
    }

    package var json: JSONValue {
        ["score": .number(score), "answer": .string(answer.rawValue), "cases": .number(Double(cases))]
    }
}
