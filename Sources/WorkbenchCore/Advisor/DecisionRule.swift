import Foundation

/// How one rung fared in the decision: against the target, against the baseline, and against the
/// best rung.
public struct RungTest: Sendable, Hashable, Codable {
    /// The p-value against "the true score is below the target", and after Holm's correction over
    /// every rung.
    public var p: Double
    public var adjustedP: Double
    public var method: String
    /// Shown to be at or above the target, with the family-wise error rate held at α.
    public var meets: Bool
    /// Shown to be above the baseline (chance or the majority label, Holm over every rung); true
    /// when the task has no baseline.
    public var aboveBaseline: Bool
    /// The p-value against "no better than the baseline", Holm-adjusted; nil without a baseline.
    public var baselineP: Double?
    /// The best rung against this one, paired on the shared cases, Holm-adjusted over the rungs
    /// cheaper than the best; nil for the best itself and for costlier rungs.
    public var againstBest: Comparison?
}

/// The decision over a measured ladder: the verdict, the rung chosen and every test behind it.
public struct Decision: Sendable, Hashable, Codable {
    public enum Verdict: String, Sendable, Hashable, Codable {
        /// The chosen rung is shown to reach the target (family-wise error at most α).
        case meets
        /// The best rung reaches the target on these cases, but not by enough to show it.
        case undecided
        /// No rung reaches the target on these cases.
        case short
        /// No rung is shown to score above the baseline: the model cannot do the task as asked.
        case atBaseline
    }

    public var verdict: Verdict
    /// Indices into the ladder's rungs.
    public var chosen: Int
    public var best: Int
    /// One per rung, in the ladder's order.
    public var tests: [RungTest]
    public var alpha: Double
    /// How many tests against the target Holm's correction covered: the rungs and the zero-shot
    /// variants that lost.
    public var family: Int
    public var target: Double
    /// The rate a trivial answer gets (chance, or always the majority label), when the task has one.
    public var baseline: Double?
}

/// The advisor's decision rule. Its error rates are proven by simulation in the tests
/// (`DecisionRuleSimulationTests`) and stated in the README.
public enum DecisionRule {
    public static let alpha = 0.05

    /// The rule in words, for reports.
    public static let statement = """
        Every rung is tested against the target on the same dev cases (one-sided: exact binomial for \
        pass/fail scores, a betting test for others; a random few-shot rung must pass with every draw), \
        with Holm's correction over all rungs and every zero-shot variant looked at, so the chance of \
        calling any rung good enough when none is stays at most 5%. The cheapest rung shown to meet the target is chosen. When none is, the \
        cheapest rung not significantly worse than the best (paired tests against each cheaper rung, \
        Holm-corrected) is chosen, so a costlier rung wins only when it is shown to be better. A rung not shown to score above \
        chance or the majority label is never chosen as helping. Projections are never part of it.
        """

    /// Decides over measured rungs (those with no scored case are left out).
    /// - Parameters:
    ///   - baseline: what a trivial answer scores (chance or the majority label), for label tasks.
    ///   - alsoTested: outcomes that were looked at to build the ladder but are not rungs (the
    ///     zero-shot variants that lost to the best): their tests join the Holm families, since
    ///     picking the best of them is itself a look.
    public static func decide(
        _ rungs: [Rung], target: Double, cost: CostModel, baseline: Double? = nil, alsoTested: [Outcomes] = [],
        alpha: Double = alpha, seed: UInt64 = 1
    ) -> Decision? {
        let measured = rungs.indices.filter { rungs[$0].cases > 0 }
        guard !measured.isEmpty else { return nil }
        var tests = rungs.map { _ in
            RungTest(p: 1, adjustedP: 1, method: "", meets: false, aboveBaseline: baseline == nil)
        }
        // Against the target, Holm over every measured rung.
        let others = alsoTested.filter { $0.cases > 0 }
        let targetTests = measured.map { rungs[$0].outcomes.targetTest(target) }
        let adjusted = Statistics.holm(targetTests.map(\.p) + others.map { $0.targetTest(target).p })
        for (position, index) in measured.enumerated() {
            tests[index].p = targetTests[position].p
            tests[index].adjustedP = adjusted[position]
            tests[index].method = targetTests[position].method
            tests[index].meets = adjusted[position] < alpha
        }
        // Against the baseline, the same way.
        if let baseline {
            let pValues = (measured.map { rungs[$0].outcomes } + others).map { $0.targetTest(baseline).p }
            for (position, adjusted) in Statistics.holm(pValues).prefix(measured.count).enumerated() {
                tests[measured[position]].baselineP = adjusted
                tests[measured[position]].aboveBaseline = adjusted < alpha
            }
        }
        let cheapest = { (indices: [Int]) -> Int? in indices.min { cost.order(rungs[$0], rungs[$1]) } }
        let helping = measured.filter { tests[$0].aboveBaseline }
        let scoreOrder = { (a: Int, b: Int) -> Bool in
            let (x, y) = (rungs[a].interval.estimate, rungs[b].interval.estimate)
            return x != y ? x < y : cost.order(rungs[b], rungs[a])
        }
        let best = (helping.isEmpty ? measured : helping).max(by: scoreOrder)!
        // The best against every cheaper rung (a costlier one is never chosen over it), paired,
        // Holm over those comparisons.
        let cheaper = measured.filter { $0 != best && cost.order(rungs[$0], rungs[best]) }
        let bestScores = rungs[best].outcomes.perCase
        let comparisons = Comparisons.adjusted(
            cheaper.map { other in
                Comparisons.paired(
                    bestScores, rungs[other].outcomes.perCase,
                    passFail: rungs[best].outcomes.passFail && rungs[other].outcomes.passFail, seed: seed)
            })
        for (other, comparison) in zip(cheaper, comparisons) { tests[other].againstBest = comparison }

        let verdict: Decision.Verdict
        let chosen: Int
        if let meets = cheapest(helping.filter { tests[$0].meets }) {
            verdict = .meets
            chosen = meets
        } else if helping.isEmpty {
            verdict = .atBaseline
            chosen = cheapest(measured)!
        } else {
            let notWorse = helping.filter { $0 == best || tests[$0].againstBest?.isSignificant == false }
            chosen = cheapest(notWorse) ?? best
            verdict = rungs[best].interval.estimate >= target ? .undecided : .short
        }
        return Decision(
            verdict: verdict, chosen: chosen, best: best, tests: tests, alpha: alpha,
            family: measured.count + others.count, target: target, baseline: baseline)
    }

    /// About how many cases per rung would show a rung scoring `estimate` to be above `target`
    /// with `rungs` rungs tested (the exact binomial test at α over the Holm factor), if the
    /// estimate held; nil when it is not above the target or more than 100,000 would be needed.
    public static func casesToShow(estimate: Double, target: Double, rungs: Int, alpha: Double = alpha) -> Int? {
        guard estimate > target, estimate <= 1 else { return nil }
        let level = alpha / Double(max(1, rungs))
        var n = 10
        while n <= 100_000 {
            let successes = Int((estimate * Double(n)).rounded(.down))
            if Statistics.binomialUpperTail(successes: successes, trials: n, probability: target) < level { return n }
            n = n < 200 ? n + 5 : Int(Double(n) * 1.1)
        }
        return nil
    }
}
