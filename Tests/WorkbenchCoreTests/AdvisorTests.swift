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
        kind: .zeroShot, label: "zero-shot", interval: Interval(estimate: 0.4, lower: 0.3, upper: 0.5),
        promptTokens: 40,
        completionTokens: 2, latencySeconds: 0.2)

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
        #expect(DecisionRules.dollars(value) == text)
    }
}

struct DecisionRuleTests {
    static func rung(
        _ kind: Rung.Kind, _ label: String, _ score: Double, _ lower: Double, _ upper: Double, tokens: Double,
        measured: Bool = true, oneOffUSD: Double? = nil, examples: Int = 0
    ) -> Rung {
        Rung(
            kind: kind, label: label, interval: Interval(estimate: score, lower: lower, upper: upper),
            measured: measured,
            promptTokens: tokens, completionTokens: 2, latencySeconds: tokens / 400, oneOffUSD: oneOffUSD,
            labeledExamples: examples)
    }

    static let zeroShot = rung(.zeroShot, "zero-shot", 0.40, 0.30, 0.50, tokens: 40)
    static let oneShot = rung(
        .fewShot(k: 1, selection: .random), "1-shot random", 0.70, 0.60, 0.80, tokens: 70, examples: 1)
    static let fourShot = rung(
        .fewShot(k: 4, selection: .random), "4-shot random", 0.95, 0.90, 0.98, tokens: 160, examples: 4)
    static let eightShot = rung(
        .fewShot(k: 8, selection: .similar), "8-shot similar", 0.97, 0.92, 0.99, tokens: 300, examples: 8)

    @Test func fewShotAlreadyMeetsTheTarget() throws {
        let recommendation = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.oneShot, Self.fourShot, Self.eightShot], target: 0.9,
                cost: CostModel(prices: Prices(inputPerMillion: 0.15, outputPerMillion: 0.6), volumePerMonth: 10_000),
                curve: nil, trainSize: 80, maxShots: 16))
        #expect(recommendation.verdict == .meets)
        #expect(recommendation.chosen.label == "4-shot random", "the cheaper of the two that meet it")
        #expect(recommendation.reasons[0].contains("0.500 short"))
        #expect(recommendation.reasons.contains { $0.hasPrefix("What it costs: +120 prompt tokens per request") })
        #expect(recommendation.reasons.contains { $0.hasPrefix("What it gains: +0.550 in score") })
        #expect(recommendation.next == ["Confirm on the held-out test split (--split test) before shipping."])
    }

    @Test func aScoreWhoseIntervalDipsBelowIsOnlyLikely() throws {
        let shaky = Self.rung(
            .fewShot(k: 2, selection: .random), "2-shot random", 0.91, 0.80, 0.97, tokens: 100, examples: 2)
        let recommendation = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, shaky], target: 0.9, cost: CostModel(), curve: nil, trainSize: 80, maxShots: 16))
        #expect(recommendation.verdict == .likely)
        #expect(recommendation.chosen.label == "2-shot random")
        #expect(recommendation.next.first?.contains("Score more cases") == true)
    }

    @Test func whenNothingMeetsItTheCurveSaysWhatWould() throws {
        let curve = LearningCurve(ceiling: 0.95, amplitude: 0.55, exponent: 0.8)
        let rungs = [Self.zeroShot, Self.oneShot]
        let inContext = try #require(
            DecisionRules.recommend(rungs, target: 0.9, cost: CostModel(), curve: curve, trainSize: 80, maxShots: 32))
        #expect(inContext.verdict == .short)
        #expect(inContext.chosen.label == "1-shot random")
        #expect(
            inContext.next == [
                "The learning curve reaches the target at about 20 examples, which fit the context: try --shots 20."
            ])
        let fewLabels = try #require(
            DecisionRules.recommend(rungs, target: 0.9, cost: CostModel(), curve: curve, trainSize: 8, maxShots: 4))
        #expect(
            fewLabels.next == [
                "The learning curve reaches the target at about 20 examples: label about 12 more, then fine-tune."
            ])
        let unreachable = try #require(
            DecisionRules.recommend(rungs, target: 0.99, cost: CostModel(), curve: curve, trainSize: 80, maxShots: 16))
        #expect(unreachable.next.first?.contains("levels off at 0.950, below the target") == true)
    }

    @Test func fineTuningWinsOnlyAboveItsBreakEvenVolume() throws {
        // Both meet the target; fine-tuning sends 120 fewer prompt tokens but costs $30 once.
        let fineTuned = Self.rung(.fineTuned, "fine-tuned", 0.96, 0.91, 0.99, tokens: 40, oneOffUSD: 30, examples: 80)
        let prices = Prices(inputPerMillion: 1.0, outputPerMillion: 2.0)
        let saving = 120 * 1.0 / 1_000_000
        let breakEven = try #require(CostModel.breakEven(oneOff: 30, savingPerRequest: saving))
        #expect(abs(breakEven - 250_000) < 1e-6)
        let monthlyAtBreakEven = breakEven / CostModel.horizonMonths
        let below = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.fourShot, fineTuned], target: 0.9,
                cost: CostModel(prices: prices, volumePerMonth: monthlyAtBreakEven * 0.5), curve: nil, trainSize: 80,
                maxShots: 16))
        #expect(below.chosen.label == "4-shot random")
        let above = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.fourShot, fineTuned], target: 0.9,
                cost: CostModel(prices: prices, volumePerMonth: monthlyAtBreakEven * 2), curve: nil, trainSize: 80,
                maxShots: 16))
        #expect(above.chosen.label == "fine-tuned")
        #expect(above.reasons.contains { $0.contains("a one-off $30.00 to train") })
    }

    @Test func aMeasurementThatReachesTheTargetComesBeforeAProjection() throws {
        let shaky = Self.rung(
            .fewShot(k: 4, selection: .random), "4-shot random", 0.92, 0.85, 0.97, tokens: 160, examples: 4)
        let projected = Self.rung(
            .fineTuned, "fine-tuned (projected)", 0.95, 0.92, 0.97, tokens: 40, measured: false, examples: 80)
        for cost in [
            CostModel(), CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 1), volumePerMonth: 10),
        ] {
            let recommendation = try #require(
                DecisionRules.recommend(
                    [Self.zeroShot, shaky, projected], target: 0.9, cost: cost, curve: nil, trainSize: 80, maxShots: 8))
            #expect(recommendation.verdict == .likely)
            #expect(recommendation.chosen.label == "4-shot random")
        }
    }

    @Test func aOneOffCostWithoutAVolumeOrAPriceRanksLast() throws {
        // Both measured and meeting the target; fine-tuning is cheaper per request but costs once.
        let fineTuned = Self.rung(.fineTuned, "fine-tuned", 0.96, 0.91, 0.99, tokens: 40, oneOffUSD: 30, examples: 80)
        let noVolume = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.fourShot, fineTuned], target: 0.9,
                cost: CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2)), curve: nil, trainSize: 80,
                maxShots: 8))
        #expect(noVolume.chosen.label == "4-shot random", "a one-off cost cannot be spread over an unknown volume")
        var unpriced = fineTuned
        unpriced.oneOffUSD = nil
        let unknownCost = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.fourShot, unpriced], target: 0.9,
                cost: CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2), volumePerMonth: 1_000_000),
                curve: nil, trainSize: 80, maxShots: 8))
        #expect(unknownCost.chosen.label == "4-shot random", "an unknown training price is not a free one")
        #expect(CostModel(prices: Prices(inputPerMillion: 1, outputPerMillion: 2)).oneOff(unpriced) == nil)
        #expect(CostModel().oneOff(Self.fourShot) == 0)
    }

    @Test func aCurveThatBarelyRisesDoesNotOverflow() throws {
        let shallow = LearningCurve(ceiling: 0.95, amplitude: 0.55, exponent: 0.02)
        #expect(shallow.examplesToReach(0.9) == nil)
        #expect(shallow.saturation() == nil)
        let recommendation = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.oneShot], target: 0.9, cost: CostModel(), curve: shallow, trainSize: 80,
                maxShots: 8))
        #expect(recommendation.verdict == .short)
        #expect(recommendation.next.first?.contains("levels off") == true)
    }

    @Test func aProjectedFineTuneIsNeverMoreThanLikely() throws {
        let curve = LearningCurve(ceiling: 0.97, amplitude: 0.6, exponent: 0.9)
        let projected = DecisionRules.projectFineTuning(
            curve: curve, trainSize: 80, zeroShot: Self.zeroShot, bestFewShot: Self.oneShot, tokensPerExample: 30,
            secondsPerPromptToken: 0.002, costUSD: nil)
        #expect(!projected.measured)
        #expect(abs(projected.interval.estimate - curve.predict(80)) < 1e-12)
        #expect(projected.interval.lower == 0.70)
        #expect(projected.interval.upper == 0.97)
        let trainingSeconds: Double = 3 * 80 * 30 * 3 * 0.002
        let oneOff = try #require(projected.oneOffSeconds)
        #expect(abs(oneOff - trainingSeconds) < 1e-9)
        #expect(projected.promptTokens == Self.zeroShot.promptTokens)
        let recommendation = try #require(
            DecisionRules.recommend(
                [Self.zeroShot, Self.oneShot, projected], target: 0.9, cost: CostModel(), curve: curve, trainSize: 80,
                maxShots: 4))
        #expect(recommendation.verdict == .likely)
        #expect(recommendation.chosen.label == "fine-tuned (projected)")
        #expect(recommendation.next.first?.contains("pwb export-finetune") == true)
    }
}
