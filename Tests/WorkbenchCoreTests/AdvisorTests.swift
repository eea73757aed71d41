import Foundation
import Testing
import WorkbenchCore

struct LearningCurveTests {
    @Test func recoversAKnownCurve() throws {
        let truth = LearningCurve(ceiling: 0.95, amplitude: 0.55, exponent: 0.8)
        let points = [0.0, 1, 2, 4, 8, 16].map { (k: $0, score: truth.predict($0)) }
        let fitted = try #require(LearningCurve.fit(points))
        #expect(abs(fitted.ceiling - 0.95) < 0.01)
        #expect(abs(fitted.amplitude - 0.55) < 0.01)
        #expect(abs(fitted.exponent - 0.8) < 0.02)
        #expect(fitted.residual < 1e-3)
        // 0.95 − 0.55·(k+1)^−0.8 ≥ 0.9 when k + 1 ≥ 11^1.25 ≈ 20.03.
        #expect(try #require(truth.examplesToReach(0.9)) == 20)
        #expect(truth.examplesToReach(0.96) == nil)
    }

    @Test func fitsNoisyDataCloseEnough() throws {
        let truth = LearningCurve(ceiling: 0.9, amplitude: 0.5, exponent: 1.2)
        let noise = [0.01, -0.015, 0.012, -0.008, 0.005]
        let points = zip([0.0, 1, 2, 4, 8], noise).map { (k: $0, score: truth.predict($0) + $1) }
        let fitted = try #require(LearningCurve.fit(points))
        #expect(abs(fitted.predict(8) - truth.predict(8)) < 0.03)
        #expect(fitted.rises)
    }

    @Test func aFallingOrTooShortSeriesIsFlatOrNothing() throws {
        let falling = try #require(LearningCurve.fit([(0, 0.8), (1, 0.7), (2, 0.6), (4, 0.5)]))
        #expect(!falling.rises)
        #expect(falling.examplesToReach(0.9) == nil)
        #expect(LearningCurve.fit([(0, 0.2), (1, 0.5)]) == nil)
    }
}

struct CostModelTests {
    static let zeroShot = Rung(
        kind: .zeroShot, label: "zero-shot", outcomes: DecisionRuleTests.passes(16, of: 40), promptTokens: 40,
        completionTokens: 2, computeSeconds: 0.2)

    @Test func pricesTokensOrMeasuresComputeTime() throws {
        let priced = CostModel(prices: Prices(inputPerMillion: 0.15, outputPerMillion: 0.60), volumePerMonth: 100_000)
        #expect(abs(priced.perRequest(Self.zeroShot) - (40 * 0.15 + 2 * 0.60) / 1_000_000) < 1e-15)
        let year = try #require(priced.total(Self.zeroShot))
        #expect(abs(year - 12 * 100_000 * 7.2e-6) < 1e-9)
        let local = CostModel()
        #expect(local.perRequest(Self.zeroShot) == 0.2)
        #expect(local.unit == "s of local compute")
        #expect(CostModel.breakEven(oneOff: 50, savingPerRequest: 0.0001) == 500_000)
        #expect(CostModel.breakEven(oneOff: 50, savingPerRequest: 0) == nil)
    }

    @Test(arguments: [
        (0.0, "$0.00"), (12.345, "$12.35"), (0.01, "$0.01"), (0.0072, "$0.0072"), (7.2e-6, "$0.0000072"),
        (0.0004, "$0.00040"),
    ])
    func showsDollarsToTwoSignificantDigitsBelowACent(value: Double, text: String) {
        #expect(Advice.dollars(value) == text)
    }

    @Test(arguments: [
        (0.0496, "p=0.0496"), (0.0504, "p=0.0504"), (0.05, "p=0.0500"), (0.012, "p=0.012"), (0.0004, "p<0.001"),
        (0.5, "p=0.500"), (0.0494, "p=0.049"), (0.0495, "p=0.0495"), (0.04996, "p=0.0499"),
        (0.05004, "p=0.0501"),
    ])
    func pValuesAreNeverRoundedAcrossFivePercent(p: Double, text: String) {
        #expect(Advice.pValue(p) == text)
    }
}

struct DecisionRuleTests {
    /// `passed` of `cases` cases pass, the first ones: rungs built this way pass nested sets of
    /// cases, as a model does when some cases are simply harder.
    static func passes(_ passed: Int, of cases: Int) -> Outcomes {
        Outcomes(Dictionary(uniqueKeysWithValues: (0..<cases).map { ($0, $0 < passed ? 1.0 : 0.0) }), passFail: true)
    }

    static func rung(
        _ kind: Rung.Kind, _ label: String, _ passed: Int, of cases: Int = 80, tokens: Double,
        oneOffUSD: Double? = nil, examples: Int = 0
    ) -> Rung {
        Rung(
            kind: kind, label: label, outcomes: passes(passed, of: cases), promptTokens: tokens, completionTokens: 2,
            computeSeconds: tokens / 400, oneOffUSD: oneOffUSD, labeledExamples: examples)
    }

    static func rule(
        target: Double = 0.9, margin: Double = DecisionRule.defaultMargin, cost: CostModel = CostModel(),
        value: Double? = nil, baseline: Double? = nil, looks: Int = 1
    ) -> DecisionRule {
        DecisionRule(target: target, margin: margin, cost: cost, value: value, baseline: baseline, looks: looks)
    }

    static func advice(_ rungs: [Rung], rule: DecisionRule = rule()) -> Advice {
        let decision = rule.decide(rungs).map { rule.withIntervals($0, rungs: rungs) }
        let empty = RunSummary(
            run: 1, variant: "v", strategy: "zero-shot", interval: rungs[0].interval, cases: rungs[0].cases, errors: 0,
            promptTokens: 40, latencyP50Milliseconds: 10, cachedShare: 0)
        var advice = Advice(
            template: "t", evalset: "e", model: "m", devCases: 80, casesPerRung: rungs[0].cases, trainCases: 80,
            target: rule.target, margin: rule.margin, value: rule.value, volumePerMonth: rule.cost.volumePerMonth,
            prices: rule.cost.prices, fineTuneCostUSD: nil,
            baseline: rule.baseline.map { Advice.Baseline(labels: 2, chance: $0, majorityLabel: "yes", majority: $0) },
            steps: [.zeroShot(Advice.ZeroShot(variants: [empty], best: "v", comparisons: []))], projection: nil,
            rungs: rungs, decision: decision, rule: rule.statement, elapsedSeconds: 1)
        if let decision, decision.open { advice.casesNeeded = rule.casesNeeded(decision, rungs: rungs) }
        return advice
    }

    static let zeroShot = rung(.zeroShot, "zero-shot", 32, tokens: 40)
    static let oneShot = rung(.fewShot(k: 1, selection: .random), "1-shot random #1", 56, tokens: 70, examples: 1)
    static let fourShot = rung(.fewShot(k: 4, selection: .random), "4-shot random #1", 79, tokens: 160, examples: 4)
    static let eightShot = rung(.fewShot(k: 8, selection: .similar), "8-shot similar", 80, tokens: 300, examples: 80)

    @Test func theBestIsChosenAndMeetsOnlyWhenShown() throws {
        let prices = CostModel(prices: Prices(inputPerMillion: 0.15, outputPerMillion: 0.6), volumePerMonth: 10_000)
        let advice = Self.advice(
            [Self.zeroShot, Self.oneShot, Self.fourShot, Self.eightShot], rule: Self.rule(cost: prices))
        let decision = try #require(advice.decision)
        #expect(decision.best == 3 && decision.chosen == 3, "79 of 80 cannot show it is within 0.02 of 80 of 80")
        #expect(decision.verdict == .meets)
        // 80 of 80 against 0.9: P(X ≥ 80) = 0.9^80 (scipy.stats.binom.sf(79, 80, 0.9)).
        #expect(abs(decision.tests[3].targetP - 0.00021847450052839227) < 1e-15)
        #expect(decision.tests[3].meets && decision.tests[2].meets && !decision.tests[1].meets)
        // 32 of 80 is shown short of 0.9 (p = 1.5e-8 before Holm).
        #expect(decision.tests[0].short && !decision.tests[3].short)
        let near = try #require(decision.tests[2].againstBest)
        // The paired test by betting on (a − b + 1) / 2 against (1 − 0.02) / 2, the cases in their
        // hashed order: as a Python port of bettingUpperTest and Outcomes.order computes it.
        #expect(near.cheaper && !near.shown && abs(near.p - 0.38227160384248793) < 1e-12)
        #expect(advice.reasons[0].description.contains("0.500 short"))
        #expect(advice.reasons.contains { $0.description.contains("no cheaper rung showed it is at most 0.020 worse") })
        #expect(advice.reasons.contains { $0.description.hasPrefix("What it costs: +260 prompt tokens per request") })
        #expect(
            advice.next.first == "Confirm on the held-out test split (\(command: "eval --split test")) before shipping."
        )
    }

    @Test func aCheaperRungThatShowsItIsWithinTheMarginIsChosen() throws {
        let rungs = [Self.zeroShot, Self.fourShot, Self.eightShot]
        let advice = Self.advice(rungs, rule: Self.rule(margin: 0.10))
        let decision = try #require(advice.decision)
        #expect(decision.best == 2 && decision.chosen == 1)
        let near = try #require(decision.tests[1].againstBest)
        #expect(near.shown && abs(near.p - 0.006477639377772006) < 1e-12)
        #expect(abs(near.difference + 1.0 / 80) < 1e-12)
        #expect(advice.reasons.contains { $0.description.contains("4-shot random #1 is cheaper than 8-shot similar") })
        #expect(!decision.open)
    }

    @Test func theBurdenIsOnTheCheapRungNotTheCostlyOne() throws {
        // Retrieval 33/40 against zero-shot 32/40: nothing shows zero-shot is nearly as good, so the
        // better-scoring retrieval stays chosen, and zero-shot is still a contender.
        let zero = Self.rung(.zeroShot, "zero-shot", 32, of: 40, tokens: 40)
        let retrieval = Self.rung(.retrieval(passages: 3), "retrieval (3 passages)", 33, of: 40, tokens: 1360)
        let advice = Self.advice([zero, retrieval], rule: Self.rule(looks: 2))
        let decision = try #require(advice.decision)
        #expect(decision.best == 1 && decision.chosen == 1)
        #expect(decision.verdict == .undecided)
        #expect(decision.contenders == [1, 0] && decision.open)
        #expect(advice.next.first?.description.contains("The decision is still open") == true)
        #expect(advice.casesNeeded != nil)
    }

    @Test func byValueTheHighestExpectedValuePerRequestIsChosen() throws {
        // $0.01 a correct answer against 1/1M-token prices: 8-shot's 0.0125 more in score is worth
        // $0.000125, more than its 140 extra prompt tokens cost ($0.00014)? No: 4-shot wins.
        let prices = CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 1))
        let rungs = [Self.zeroShot, Self.fourShot, Self.eightShot]
        let decision = try #require(Self.rule(cost: prices, value: 0.01).decide(rungs))
        #expect(decision.basis == .value && decision.chosen == 1)
        let values = try #require(decision.expectedValues)
        #expect(abs(values[1] - (0.01 * 79.0 / 80 - 162e-6)) < 1e-12)
        #expect(Self.rule(cost: prices, value: 1).decide(rungs)?.chosen == 2, "at $1 an answer, the score wins")
    }

    @Test func noRungAboveTheBaselineMeansTheModelCannotDoTheTask() throws {
        let zero = Self.rung(.zeroShot, "zero-shot", 42, tokens: 40)
        let four = Self.rung(.fewShot(k: 4, selection: .random), "4-shot random #1", 45, tokens: 160, examples: 4)
        let advice = Self.advice([zero, four], rule: Self.rule(baseline: 0.5))
        #expect(advice.decision?.verdict == .atBaseline)
        #expect(advice.reasons.contains { $0.description.contains("the model cannot do this task as asked") })
        #expect(advice.next.first?.description.contains("larger model") == true)
        let above = Self.advice(
            [zero, Self.rung(.fewShot(k: 4, selection: .random), "4-shot", 60, tokens: 160)],
            rule: Self.rule(baseline: 0.5))
        #expect(above.decision?.verdict == .short, "60 of 80 is above 0.5 and shown short of 0.9")
        #expect(above.recommended?.label == "4-shot")
    }

    @Test func trainingAlreadyPaidIsNotAFutureCost() throws {
        // A tuned rung sends 120 fewer prompt tokens than 4-shot. Its training, once paid, is sunk:
        // without a volume it is ordered by its cost per request, cheaper than the 4-shot rung.
        var tuned = Self.rung(.fineTuned, "fine-tuned on 80", 79, tokens: 40, oneOffUSD: 30, examples: 80)
        let prices = CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2))
        #expect(prices.order(Self.fourShot, tuned), "a cost still to pay is not spread over uncounted requests")
        tuned.oneOffPaid = true
        #expect(prices.order(tuned, Self.fourShot))
        #expect(prices.unpaidOneOff(tuned) == 0 && prices.oneOff(tuned) == 30)
        // With a volume, an unpaid one-off cost counts over the year.
        var unpaid = tuned
        unpaid.oneOffPaid = false
        let yearly = CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2), volumePerMonth: 1000)
        #expect(yearly.order(Self.fourShot, unpaid), "$30 over 12,000 requests is more than 120 tokens each")
        let advice = Self.advice([Self.zeroShot, Self.fourShot, tuned], rule: Self.rule(margin: 0.10, cost: prices))
        #expect(advice.reasons.contains { $0.description.contains("a one-off $30.00 to train, already paid") })
    }

    @Test func rungsWhoseEveryRequestFailedAreLeftOut() throws {
        let failed = Rung(
            kind: .fewShot(k: 8, selection: .similar), label: "8-shot similar", outcomes: Outcomes([:], passFail: true),
            promptTokens: 300, completionTokens: 0, computeSeconds: 0)
        #expect(failed.cases == 0)
        let decision = try #require(Self.rule().decide([Self.zeroShot, failed]))
        #expect(decision.chosen == 0 && decision.best == 0)
        #expect(decision.tests[1].againstBest == nil && !decision.tests[1].meets)
        #expect(Self.rule().decide([failed]) == nil)
    }

    @Test func theFollowUpDoublesTheContendersCasesWithinItsBudget() throws {
        let zero = Self.rung(.zeroShot, "zero-shot", 32, of: 40, tokens: 40)
        let retrieval = Self.rung(.retrieval(passages: 3), "retrieval (3 passages)", 33, of: 40, tokens: 1360)
        let rungs = [zero, retrieval]
        let decision = try #require(Self.rule(looks: 3).decide(rungs))
        #expect(FollowUpPolicy.looks(firstCases: 40, devCases: 100, followUp: true) == 3, "40, 80, then all 100")
        #expect(FollowUpPolicy.looks(firstCases: 40, devCases: 100, followUp: false) == 1)
        let round = try #require(FollowUpPolicy.nextRound(decision, rungs: rungs, devCases: 100, requestsLeft: 80))
        #expect(round.rungs == [1, 0] && round.cases == 80)
        #expect(FollowUpPolicy.nextRound(decision, rungs: rungs, devCases: 100, requestsLeft: 79) == nil, "over budget")
        #expect(FollowUpPolicy.nextRound(decision, rungs: rungs, devCases: 40, requestsLeft: 1000) == nil, "all scored")
        let settled = try #require(Self.rule(margin: 0.10).decide([Self.zeroShot, Self.fourShot, Self.eightShot]))
        #expect(FollowUpPolicy.nextRound(settled, rungs: [Self.zeroShot], devCases: 160, requestsLeft: 1000) == nil)
    }
}

struct ProjectionTests {
    static func series(_ curve: (Int) -> Double, ks: [Int] = [0, 1, 2, 4, 8], cases: Int = 400)
        -> [(k: Int, perCase: [Int: Double])]
    {
        // Each k's cases pass in the share the curve says, the easiest first.
        ks.map { k in
            let passed = Int((curve(k) * Double(cases)).rounded())
            return (k, Dictionary(uniqueKeysWithValues: (0..<cases).map { ($0, $0 < passed ? 1.0 : 0.0) }))
        }
    }

    @Test func aCurveThatPassesItsBacktestIsReadOnlyAsFarAsTheBacktestReached() throws {
        let truth = { (k: Int) in 0.95 - 0.55 * pow(Double(k + 1), -0.8) }
        let projection = Projection.project(Self.series(truth), target: 0.8, trainSize: 12, seed: 3)
        #expect(projection.trusted)
        let backtest = try #require(projection.backtest)
        #expect(backtest.fittedUpTo == 4 && backtest.k == 8)
        #expect(abs(backtest.error) < 0.02)
        // Fitted to k ≤ 4 and checked at 8: (8+1)·(9/5) − 1 = 15.2, so k ≤ 15.
        #expect(projection.supportedUpTo == 15)
        // 0.95 − 0.55·(k+1)^−0.8 ≥ 0.8 when k + 1 ≥ (0.55/0.15)^1.25 ≈ 5.07: k = 5 (rounded up).
        #expect(projection.examplesToReach.map { (4...6).contains($0) } == true)
        let scenario = try #require(projection.atTrainSize)
        #expect(scenario.k == 12)
        #expect(
            scenario.interval.lower < scenario.interval.estimate && scenario.interval.estimate < scenario.interval.upper
        )
        let far = Projection.project(Self.series(truth), target: 0.8, trainSize: 80, seed: 3)
        #expect(far.atTrainSize == nil)
        #expect(far.atTrainSizeRefused?.contains("k = 15") == true)
        #expect(Projection.project(Self.series(truth), target: 0.94, trainSize: 80, seed: 3).examplesToReach == nil)
    }

    @Test func tooFewPointsOrAFailedCheckIsNotBelieved() throws {
        let truth = { (k: Int) in 0.95 - 0.55 * pow(Double(k + 1), -0.8) }
        let three = Projection.project(Self.series(truth, ks: [0, 1, 2]), target: 0.9, trainSize: 80)
        #expect(three.curve == nil && !three.trusted)
        let four = Projection.project(Self.series(truth, ks: [0, 1, 2, 4]), target: 0.9, trainSize: 80)
        #expect(four.curve != nil && !four.trusted && four.backtest == nil)
        // A jump at k = 8 the first four points give no hint of.
        let jump = { (k: Int) in k == 8 ? 0.95 : 0.4 + 0.05 * log2(Double(k + 1)) }
        let missed = Projection.project(Self.series(jump), target: 0.9, trainSize: 80)
        #expect(!missed.trusted)
        #expect(missed.distrust?.description.contains("fitted without k = 8") == true)
        #expect(missed.examplesToReach == nil && missed.atTrainSize == nil)
    }
}
