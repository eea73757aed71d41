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
        // Within 0.01 of the ceiling when 0.55·(k+1)^−0.8 ≤ 0.01: k ≥ 55^(1/0.8) − 1 ≈ 148.
        #expect(abs(try #require(truth.saturation()) - 149) < 1)
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
        #expect(falling.saturation() == nil)
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

    static func advice(_ rungs: [Rung], target: Double = 0.9, cost: CostModel = CostModel(), baseline: Double? = nil)
        -> Advice
    {
        let decision = DecisionRule.decide(rungs, target: target, cost: cost, baseline: baseline)
        let empty = RunSummary(
            run: 1, variant: "v", strategy: "zero-shot", interval: rungs[0].interval, cases: rungs[0].cases, errors: 0,
            promptTokens: 40, latencyP50Milliseconds: 10, cachedShare: 0)
        return Advice(
            template: "t", evalset: "e", model: "m", devCases: 80, casesPerRung: rungs[0].cases, trainCases: 80,
            target: target, volumePerMonth: cost.volumePerMonth, prices: cost.prices, fineTuneCostUSD: nil,
            baseline: baseline.map { Advice.Baseline(labels: 2, chance: $0, majorityLabel: "yes", majority: $0) },
            zeroShot: Advice.ZeroShot(variants: [empty], best: "v", comparisons: []),
            fewShot: .skipped("not asked"), retrieval: .skipped("not asked"), fineTuning: .skipped("not asked"),
            projection: nil, rungs: rungs, decision: decision, elapsedSeconds: 1)
    }

    static let zeroShot = rung(.zeroShot, "zero-shot", 32, tokens: 40)
    static let oneShot = rung(.fewShot(k: 1, selection: .random), "1-shot random", 56, tokens: 70, examples: 1)
    static let fourShot = rung(.fewShot(k: 4, selection: .random), "4-shot random", 79, tokens: 160, examples: 4)
    static let eightShot = rung(.fewShot(k: 8, selection: .similar), "8-shot similar", 80, tokens: 300, examples: 80)

    @Test func theCheapestRungShownToMeetTheTargetIsChosen() throws {
        let prices = CostModel(prices: Prices(inputPerMillion: 0.15, outputPerMillion: 0.6), volumePerMonth: 10_000)
        let advice = Self.advice([Self.zeroShot, Self.oneShot, Self.fourShot, Self.eightShot], cost: prices)
        let decision = try #require(advice.decision)
        #expect(decision.verdict == .meets)
        // 79/80 against 0.9: P(X ≥ 79) = 0.0022 (scipy binomtest), ×3 by Holm = 0.0065 < 0.05.
        #expect(advice.recommended?.label == "4-shot random", "the cheaper of the two shown to meet it")
        #expect(abs(decision.tests[2].p - 0.0021604700607807704) < 1e-12)
        #expect(decision.tests[2].meets && decision.tests[3].meets && !decision.tests[1].meets)
        #expect(advice.reasons[0].contains("0.500 short"))
        #expect(advice.reasons.contains { $0.hasPrefix("What it costs: +120 prompt tokens per request") })
        #expect(advice.reasons.contains { $0.hasPrefix("What it gains: +0.588 in score") })
        #expect(advice.next == ["Confirm on the held-out test split (pwb eval --split test) before shipping."])
    }

    @Test func aScoreAtTheTargetThatCannotBeShownIsUndecided() throws {
        let shaky = Self.rung(.fewShot(k: 2, selection: .random), "2-shot random", 37, of: 40, tokens: 100, examples: 2)
        let advice = Self.advice([Self.rung(.zeroShot, "zero-shot", 16, of: 40, tokens: 40), shaky])
        let decision = try #require(advice.decision)
        #expect(decision.verdict == .undecided)
        #expect(advice.recommended?.label == "2-shot random", "significantly better than zero-shot")
        #expect(advice.next.first?.contains("cases per rung would show it") == true)
    }

    @Test func aCostlierRungThatIsNotShownBetterLosesToTheCheaperOne() throws {
        // Retrieval 33/40 against zero-shot 32/40 (exact McNemar p = 1) at +1,320 prompt tokens.
        let zero = Self.rung(.zeroShot, "zero-shot", 32, of: 40, tokens: 40)
        let retrieval = Self.rung(.retrieval(passages: 3), "retrieval (3 passages)", 33, of: 40, tokens: 1360)
        let advice = Self.advice([zero, retrieval])
        let decision = try #require(advice.decision)
        #expect(decision.verdict == .short)
        #expect(decision.best == 1)
        #expect(advice.recommended?.label == "zero-shot")
        #expect(decision.tests[0].againstBest?.p == 1)
        #expect(advice.reasons.contains { $0.contains("cheaper and not significantly worse than retrieval") })
    }

    @Test func aCostlierRungShownBetterWinsEvenShortOfTheTarget() throws {
        let zero = Self.rung(.zeroShot, "zero-shot", 10, of: 40, tokens: 40)
        let four = Self.rung(.fewShot(k: 4, selection: .random), "4-shot random", 30, of: 40, tokens: 160, examples: 4)
        let advice = Self.advice([zero, four])
        #expect(advice.decision?.verdict == .short)
        #expect(advice.recommended?.label == "4-shot random")
    }

    @Test func aRungWithOneBadDrawDoesNotMeetTheTarget() throws {
        let good = Self.passes(80, of: 80).draws[0]
        let bad = Self.passes(60, of: 80).draws[0]
        let lucky = Rung(
            kind: .fewShot(k: 2, selection: .random), label: "2-shot random",
            outcomes: Outcomes(draws: [good, good, bad], passFail: true), promptTokens: 100, completionTokens: 2,
            computeSeconds: 0.25)
        let decision = try #require(DecisionRule.decide([Self.zeroShot, lucky], target: 0.9, cost: CostModel()))
        #expect(!decision.tests[1].meets)
        #expect(decision.tests[1].method == "exact binomial, every draw")
        // The draws' mean is 0.917 with a Wilson interval over cases, not over cases × draws.
        #expect(abs(lucky.interval.estimate - 220.0 / 240) < 1e-12)
        #expect(lucky.cases == 80)
    }

    @Test func everyDrawMustMeetTheTargetNotTheirPool() throws {
        // Two perfect draws and one exactly at 0.9 on 200 cases: pooled per case (193.3 of 200),
        // the rung would be shown above 0.9; a deployed prompt is one draw, so it is not.
        let perfect = Self.passes(200, of: 200).draws[0]
        let atTarget = Self.passes(180, of: 200).draws[0]
        let draws = Outcomes(draws: [perfect, perfect, atTarget], passFail: true)
        let rung = Rung(
            kind: .fewShot(k: 2, selection: .random), label: "2-shot random", outcomes: draws, promptTokens: 100,
            completionTokens: 2, computeSeconds: 0.25)
        #expect(draws.targetTest(0.9).p > 0.4)
        #expect(Outcomes(draws.perCase, passFail: false).targetTest(0.9).p < 0.01, "the pool alone would pass")
        let decision = try #require(DecisionRule.decide([rung], target: 0.9, cost: CostModel()))
        #expect(decision.verdict != .meets)
    }

    @Test func noRungAboveTheBaselineMeansTheModelCannotDoTheTask() throws {
        let zero = Self.rung(.zeroShot, "zero-shot", 42, tokens: 40)
        let four = Self.rung(.fewShot(k: 4, selection: .random), "4-shot random", 45, tokens: 160, examples: 4)
        let advice = Self.advice([zero, four], baseline: 0.5)
        #expect(advice.decision?.verdict == .atBaseline)
        #expect(advice.recommended?.label == "zero-shot")
        #expect(advice.reasons.contains { $0.contains("the model cannot do this task as asked") })
        #expect(advice.next.first?.contains("larger model") == true)
        let above = Self.advice(
            [zero, Self.rung(.fewShot(k: 4, selection: .random), "4-shot", 70, tokens: 160)], baseline: 0.5)
        #expect(above.decision?.verdict == .short)
        #expect(above.recommended?.label == "4-shot")
    }

    @Test func fineTuningWinsOnlyAboveItsBreakEvenVolume() throws {
        // Both meet the target; fine-tuning sends 120 fewer prompt tokens but costs $30 once.
        let fineTuned = Self.rung(.fineTuned, "fine-tuned", 80, tokens: 40, oneOffUSD: 30, examples: 80)
        let prices = Prices(inputPerMillion: 1.0, outputPerMillion: 2.0)
        let breakEven = try #require(CostModel.breakEven(oneOff: 30, savingPerRequest: 120 * 1.0 / 1_000_000))
        #expect(abs(breakEven - 250_000) < 1e-6)
        let monthlyAtBreakEven = breakEven / CostModel.horizonMonths
        let rungs = [Self.zeroShot, Self.fourShot, fineTuned]
        let below = DecisionRule.decide(
            rungs, target: 0.9, cost: CostModel(prices: prices, volumePerMonth: monthlyAtBreakEven * 0.5))
        #expect(below.map { rungs[$0.chosen].label } == "4-shot random")
        let above = Self.advice(rungs, cost: CostModel(prices: prices, volumePerMonth: monthlyAtBreakEven * 2))
        #expect(above.recommended?.label == "fine-tuned")
        #expect(above.reasons.contains { $0.contains("a one-off $30.00 to train") })
    }

    @Test func aOneOffCostWithoutAVolumeOrAPriceRanksLast() throws {
        let fineTuned = Self.rung(.fineTuned, "fine-tuned", 80, tokens: 40, oneOffUSD: 30, examples: 80)
        let rungs = [Self.zeroShot, Self.fourShot, fineTuned]
        let noVolume = DecisionRule.decide(
            rungs, target: 0.9, cost: CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2)))
        #expect(noVolume.map { rungs[$0.chosen].label } == "4-shot random")
        var unpriced = fineTuned
        unpriced.oneOffUSD = nil
        let unknown = [Self.zeroShot, Self.fourShot, unpriced]
        let unknownCost = DecisionRule.decide(
            unknown, target: 0.9,
            cost: CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2), volumePerMonth: 1_000_000))
        #expect(unknownCost.map { unknown[$0.chosen].label } == "4-shot random", "an unknown price is not free")
        #expect(CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2)).oneOff(unpriced) == nil)
        #expect(CostModel().oneOff(Self.fourShot) == 0)
    }

    @Test func rungsWhoseEveryRequestFailedAreLeftOut() throws {
        let failed = Rung(
            kind: .fewShot(k: 8, selection: .similar), label: "8-shot similar", outcomes: Outcomes([:], passFail: true),
            promptTokens: 300, completionTokens: 0, computeSeconds: 0)
        #expect(failed.cases == 0)
        let decision = try #require(DecisionRule.decide([Self.zeroShot, failed], target: 0.9, cost: CostModel()))
        #expect(decision.chosen == 0 && decision.best == 0)
        #expect(decision.tests[1].againstBest == nil && !decision.tests[1].meets)
        #expect(DecisionRule.decide([failed], target: 0.9, cost: CostModel()) == nil)
    }

    @Test func casesNeededFollowTheExactTest() {
        // 0.95 against 0.9 with 12 rungs: the smallest n (in the search's steps) where
        // P(X ≥ ⌊0.95·n⌋) < 0.05/12.
        let needed = DecisionRule.casesToShow(estimate: 0.95, target: 0.9, rungs: 12)
        #expect(needed.map { $0 > 200 && $0 < 1000 } == true)
        #expect(DecisionRule.casesToShow(estimate: 0.9, target: 0.9, rungs: 12) == nil)
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
        #expect(missed.distrust?.contains("fitted without k = 8") == true)
        #expect(missed.examplesToReach == nil && missed.atTrainSize == nil)
    }
}
