import Foundation

/// How one rung fared in the decision: against the target, the baseline and the best rung.
package struct RungTest: Sendable, Hashable, Codable {
    /// Against "the true score is below the target", and after Holm's correction.
    package var targetP: Double
    package var targetAdjustedP: Double
    /// Shown to reach the target, with the family-wise error held at α.
    package var meets: Bool
    /// Against "the true score is at or above the target", Holm-adjusted: shown short of it.
    package var shortAdjustedP: Double
    package var short: Bool
    /// Shown to score above the baseline (chance or the majority label); true without a baseline.
    package var aboveBaseline: Bool
    package var baselineAdjustedP: Double?
    /// Every other helping rung against the best: a cheaper one shown within the margin or not,
    /// and any shown more than the margin worse.
    package var againstBest: NearBest?
}

/// A rung against the best, paired on the cases both scored. A cheaper rung's claim to be within
/// the margin of the best is one it must show: the burden of proof is on the cheap rung.
package struct NearBest: Sendable, Hashable, Codable {
    /// Cheaper than the best: only then can being within the margin get it chosen.
    package var cheaper: Bool
    package var pairs: Int
    /// This rung's mean less the best's on those cases, and the standard deviation of the
    /// per-case differences.
    package var difference: Double
    package var spread: Double
    /// A 95% paired bootstrap interval of the difference: worked out for the rungs the advice
    /// talks about (the chosen and the closest), nil for the rest.
    package var interval: Interval?
    /// Against "this rung is more than the margin worse than the best", and after Holm's
    /// correction over every cheaper rung (1 for a costlier rung, which makes no such claim).
    package var p: Double
    package var adjustedP: Double
    package var shown: Bool
    /// Shown the other way: more than the margin worse (Holm over every rung but the best). A rung
    /// shown neither way is still a contender.
    package var shownWorse: Bool
}

/// The decision over a measured ladder: the verdict on the rung chosen, and every test behind it.
package struct Decision: Sendable, Hashable, Codable {
    package enum Verdict: String, Sendable, Hashable, Codable {
        /// The chosen rung is shown to reach the target.
        case meets
        /// The data cannot tell whether the chosen rung reaches the target.
        case undecided
        /// The chosen rung is shown to fall short of the target.
        case short
        /// No rung is shown to score above the baseline: the model cannot do the task as asked.
        case atBaseline
    }

    /// How the rung was chosen.
    package enum Basis: String, Sendable, Hashable, Codable {
        /// The best rung, or the cheapest rung shown within the margin of it.
        case margin
        /// The highest expected value per request (`--value`).
        case value
    }

    package var verdict: Verdict
    package var basis: Basis
    /// Indices into the ladder's rungs: the rung chosen, and the best by score.
    package var chosen: Int
    package var best: Int
    /// One per rung, in the ladder's order.
    package var tests: [RungTest]
    package var alpha: Double
    package var margin: Double
    package var target: Double
    package var baseline: Double?
    /// How many tests against the target Holm's correction covered: the rungs and the zero-shot
    /// variants that lost.
    package var family: Int
    /// Expected value per request of each rung (`--value`), in the cost's unit.
    package var expectedValues: [Double]?
    /// Rungs whose place is not settled: the best, and those not shown more than the margin worse
    /// than it (nor, if cheaper, shown within it). More cases scored for them could change the choice.
    package var contenders: [Int]
    /// True while the choice or the verdict could change with more cases.
    package var open: Bool { verdict == .undecided || contenders.count > 1 }
}

/// When the decision is open, the contenders are scored on more dev cases, round by round.
package enum FollowUpPolicy {
    /// The most looks at the data there can be, fixed before the first: every rung's first cases,
    /// then one more for each doubling until every dev case is scored. With no request budget for a
    /// follow-up, one.
    package static func looks(firstCases: Int, devCases: Int, followUp: Bool) -> Int {
        guard followUp, firstCases > 0 else { return 1 }
        var looks = 1
        var cases = firstCases
        while cases < devCases {
            cases = min(devCases, cases * 2)
            looks += 1
        }
        return looks
    }

    /// The request budget when the user states none: what scoring every rung on every dev case
    /// would take. No round can cost more than its share of that, so at the default the follow-up
    /// ends only when the decision settles or every dev case is scored: the error rates the
    /// simulation shows are the default's.
    package static func defaultBudget(rungs: [Rung], devCases: Int) -> Int {
        rungs.map { max(0, devCases - $0.cases) }.reduce(0, +)
    }

    /// The next round: every contender scored on twice the cases the best has (at most every dev
    /// case), or nil when the decision is settled, every dev case is scored, or the requests left
    /// cannot pay for the round. A ladder no rung of which is shown above the baseline is followed
    /// up too: more cases may show one is.
    /// - Returns: the contenders and the cases each is to have after the round.
    package static func nextRound(_ decision: Decision, rungs: [Rung], devCases: Int, requestsLeft: Int)
        -> (rungs: [Int], cases: Int)?
    {
        guard decision.open || decision.verdict == .atBaseline else { return nil }
        let have = rungs[decision.best].cases
        let cases = min(devCases, max(have * 2, have + 1))
        guard cases > have else { return nil }
        let requests = decision.contenders.map { max(0, cases - rungs[$0].cases) }.reduce(0, +)
        guard requests > 0, requests <= requestsLeft else { return nil }
        return (decision.contenders, cases)
    }
}

/// The advisor's decision rule. Its error rates are proven by simulation in the tests
/// (`DecisionRuleSimulationTests`) and stated in the README.
///
/// A claim is tested at every look at the data: the first, and each round of the follow-up that
/// scores the contenders on more cases. With at most `looks` of them, α is spent over the looks in
/// advance — half on the first, the other half shared by the rest — and each look's p-values are
/// Holm-adjusted over its claims and divided by its share (`lookShare`), so however many rounds
/// are scored before the decision settles, a false claim stays at most α.
package struct DecisionRule: Sendable {
    package static let alpha = 0.05
    package static let defaultMargin = 0.02

    package var target: Double
    /// How much worse than the best a cheaper rung may be and still be chosen.
    package var margin = DecisionRule.defaultMargin
    package var cost: CostModel
    /// Dollars (or compute seconds, in the cost's unit) a correct answer is worth: the choice is
    /// then by expected value per request.
    package var value: Double?
    /// What a trivial answer scores (chance or the majority label), for label tasks.
    package var baseline: Double?
    /// The most looks at the data there can be: the first, and each follow-up round that the dev
    /// cases and the request budget leave room for (`FollowUpPolicy.looks`).
    package var looks: Int
    package var alpha = DecisionRule.alpha

    package init(
        target: Double, margin: Double = DecisionRule.defaultMargin, cost: CostModel, value: Double? = nil,
        baseline: Double? = nil, looks: Int = 1, alpha: Double = DecisionRule.alpha
    ) {
        self.target = target
        self.margin = margin
        self.cost = cost
        self.value = value
        self.baseline = baseline
        self.looks = max(1, looks)
        self.alpha = alpha
    }

    /// The share of α look `look` (0 for the first) may spend: all of it when there is one look;
    /// else half for the first, and the rest shared evenly by the follow-up's looks.
    package func lookShare(_ look: Int) -> Double {
        guard looks > 1 else { return 1 }
        return look == 0 ? 0.5 : 0.5 / Double(looks - 1)
    }

    /// Holm over the claims of one look, then over the looks there can be (its share of α).
    func adjusted(_ pValues: [Double], look: Int) -> [Double] {
        Statistics.holm(pValues).map { min(1, $0 / lookShare(look)) }
    }

    /// The rule in words, for reports.
    package var statement: String {
        """
        Every rung is tested against the target on the same dev cases, one-sided (the exact binomial test for \
        pass/fail scores), with Holm's correction over all rungs and every zero-shot variant looked at: "meets" is \
        claimed for a rung only when shown, "short" only when shown short, so either claim is false for any rung at \
        most 5% of the time. The choice starts from the best rung by score and moves to a cheaper one only when it \
        shows it is at most \(Advice.format(margin)) worse (a one-sided paired test by betting, Holm over the cheaper \
        rungs)\(value == nil ? "" : "; with a value per correct answer, the rung of the highest expected value per request is chosen instead"). \
        A rung not shown above chance or the majority label is never chosen as helping. \(looks > 1 ? "While the decision is open the contenders are scored on more dev cases, at most \(looks) looks in all: the first look's tests are held to 2.5%, the follow-up's share the other 2.5%." : "")
        """
    }

    /// Decides over measured rungs (those with no scored case are left out); nil when none is.
    /// - Parameter alsoTested: outcomes looked at to build the ladder that are not rungs (the
    ///   zero-shot variants that lost): their tests join the Holm families, since picking the best
    ///   of them is itself a look.
    /// - Parameter look: which look at the data this is: 0 for the first, one more for each round
    ///   of the follow-up.
    package func decide(_ rungs: [Rung], alsoTested: [Outcomes] = [], look: Int = 0, seed: UInt64 = 1) -> Decision? {
        let measured = rungs.indices.filter { rungs[$0].cases > 0 }
        guard !measured.isEmpty else { return nil }
        let family = measured.map { rungs[$0].outcomes } + alsoTested.filter { $0.cases > 0 }
        var tests = rungs.map { _ in
            RungTest(
                targetP: 1, targetAdjustedP: 1, meets: false, shortAdjustedP: 1, short: false,
                aboveBaseline: baseline == nil)
        }
        let above = adjusted(family.map { $0.upperTest(target) }, look: look)
        let below = adjusted(family.map { $0.lowerTest(target) }, look: look)
        let baselineP = baseline.map { level in adjusted(family.map { $0.upperTest(level) }, look: look) }
        for (position, index) in measured.enumerated() {
            tests[index].targetP = rungs[index].outcomes.upperTest(target)
            tests[index].targetAdjustedP = above[position]
            tests[index].meets = above[position] < alpha
            tests[index].shortAdjustedP = below[position]
            tests[index].short = below[position] < alpha
            if let baselineP {
                tests[index].baselineAdjustedP = baselineP[position]
                tests[index].aboveBaseline = baselineP[position] < alpha
            }
        }
        let helping = measured.filter { tests[$0].aboveBaseline }
        let candidates = helping.isEmpty ? measured : helping
        let best = candidates.max { a, b in
            let (x, y) = (rungs[a].interval.estimate, rungs[b].interval.estimate)
            return x != y ? x < y : cost.order(rungs[b], rungs[a])
        }!
        let others = candidates.filter { $0 != best }
        let cheaper = Set(others.filter { cost.order(rungs[$0], rungs[best]) })
        for (index, near) in zip(others, nearBest(others, cheaper: cheaper, best: best, in: rungs, look: look)) {
            tests[index].againstBest = near
        }
        var chosen =
            cheaper.filter { tests[$0].againstBest?.shown == true }
            .min { cost.order(rungs[$0], rungs[$1]) } ?? best
        var expectedValues: [Double]?
        if let value {
            let values = rungs.map { value * $0.interval.estimate - cost.perRequest($0) - cost.oneOffPerRequest($0) }
            expectedValues = values
            chosen = candidates.max {
                values[$0] < values[$1] || (values[$0] == values[$1] && cost.order(rungs[$1], rungs[$0]))
            }!
        }
        let verdict: Decision.Verdict =
            helping.isEmpty ? .atBaseline : tests[chosen].meets ? .meets : tests[chosen].short ? .short : .undecided
        // Still in play: the best, and every rung not shown worse than it (a cheaper one not shown
        // near it either). Once a cheaper rung is shown near, the choice is made.
        var contenders = [best]
        if value == nil && chosen == best {
            contenders += others.filter { tests[$0].againstBest.map { !$0.shown && !$0.shownWorse } ?? false }
        }
        return Decision(
            verdict: verdict, basis: value == nil ? .margin : .value, chosen: chosen, best: best, tests: tests,
            alpha: alpha, margin: margin, target: target, baseline: baseline, family: family.count,
            expectedValues: expectedValues, contenders: contenders)
    }

    /// Each of `others` against the best: a cheaper one within the margin (Holm over the cheaper
    /// rungs), and any more than the margin worse (Holm over them all).
    func nearBest(_ others: [Int], cheaper: Set<Int>, best: Int, in rungs: [Rung], look: Int) -> [NearBest] {
        let pairs = others.map { index -> (a: [Double], b: [Double]) in
            let mine = rungs[index].outcomes.perCase
            let theirs = rungs[best].outcomes.perCase
            let shared = Outcomes.order(Set(mine.keys).intersection(theirs.keys))
            return (shared.map { mine[$0]! }, shared.map { theirs[$0]! })
        }
        // Within the margin: the mean of (a − b + 1) / 2 is above (1 − margin) / 2.
        let claims = others.indices.filter { cheaper.contains(others[$0]) }
        let within = claims.map { position in
            Statistics.bettingUpperTest(
                zip(pairs[position].a, pairs[position].b).map { ($0 - $1 + 1) / 2 }, null: (1 - margin) / 2)
        }
        // Worse by more: the mean of (b − a + 1) / 2 is above (1 + margin) / 2.
        let worse = pairs.map { pair in
            Statistics.bettingUpperTest(zip(pair.a, pair.b).map { ($1 - $0 + 1) / 2 }, null: (1 + margin) / 2)
        }
        let withinAdjusted = Dictionary(uniqueKeysWithValues: zip(claims, adjusted(within, look: look)))
        let withinP = Dictionary(uniqueKeysWithValues: zip(claims, within))
        let worseAdjusted = adjusted(worse, look: look)
        return pairs.indices.map { position in
            let differences = zip(pairs[position].a, pairs[position].b).map { $0 - $1 }
            let mean = differences.isEmpty ? 0 : Statistics.mean(differences)
            let variance =
                differences.count > 1
                ? differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count - 1) : 0
            let adjusted = withinAdjusted[position] ?? 1
            return NearBest(
                cheaper: cheaper.contains(others[position]), pairs: differences.count, difference: mean,
                spread: variance.squareRoot(), interval: nil, p: withinP[position] ?? 1, adjustedP: adjusted,
                shown: adjusted < alpha, shownWorse: worseAdjusted[position] < alpha)
        }
    }

    /// The decision with the intervals the advice shows worked out: the chosen rung's gap to the
    /// best, and the closest cheaper rung's (a paired bootstrap each, too slow to do for every rung
    /// of every decision the simulations make).
    package func withIntervals(_ decision: Decision, rungs: [Rung], seed: UInt64 = 1) -> Decision {
        var decision = decision
        let cheaper = decision.tests.indices.filter { decision.tests[$0].againstBest?.cheaper == true }
        let closest = cheaper.max {
            decision.tests[$0].againstBest!.difference < decision.tests[$1].againstBest!.difference
        }
        for index in Set([decision.chosen, closest].compactMap { $0 }) where index != decision.best {
            decision.tests[index].againstBest?.interval = pairedInterval(rungs[index], rungs[decision.best], seed: seed)
        }
        return decision
    }

    /// The 95% paired bootstrap interval of `rung`'s mean less `best`'s on the cases both scored.
    func pairedInterval(_ rung: Rung, _ best: Rung, seed: UInt64) -> Interval {
        let mine = rung.outcomes.perCase
        let theirs = best.outcomes.perCase
        let shared = Set(mine.keys).intersection(theirs.keys).sorted()
        return Statistics.pairedBootstrap(shared.map { mine[$0]! }, shared.map { theirs[$0]! }, seed: seed)
    }

    /// About how many cases the open question would need to be settled 80% of the time, if the
    /// differences seen held (a normal approximation, from estimates that selecting the best
    /// biases upward): the best's verdict against the target, and each contender's place against
    /// the best. Nil when the decision is not open, or when no number of cases would settle it.
    package func casesNeeded(_ decision: Decision, rungs: [Rung]) -> Int? {
        let z = { (p: Double) in Statistics.normalQuantile(p) }
        let power = z(0.8)
        var needed: [Double] = []
        if decision.verdict == .undecided {
            let chosen = rungs[decision.chosen].interval.estimate
            let spread = max(chosen * (1 - chosen), 0.01)
            let distance = abs(chosen - target)
            if distance > 0.005 {
                let level = z(1 - alpha * lookShare(max(1, looks - 1)) / Double(max(1, decision.family)))
                needed.append(pow(level + power, 2) * spread / (distance * distance))
            }
        }
        let contenders = decision.contenders.filter { $0 != decision.best }
        for index in contenders {
            guard let near = decision.tests[index].againstBest else { continue }
            // Settled when shown near (cheaper) or shown worse: whichever side its difference is on.
            let distance = abs(near.difference + margin)
            guard distance > 0.005 else { continue }
            let spread = max(near.spread * near.spread, 0.0001)
            let level = z(1 - alpha * lookShare(max(1, looks - 1)) / Double(max(1, contenders.count)))
            needed.append(pow(level + power, 2) * spread / (distance * distance))
        }
        guard let most = needed.max(), most.isFinite, most < 1_000_000 else { return nil }
        return Int(most.rounded(.up))
    }
}
