import Foundation
import Testing
import WorkbenchCore

/// The rates the README states, each over 300 seeds (a rate of 5% has a standard error of about
/// 1.3% at 300). The README's table came from the same simulation over 2,000 seeds
/// (`bench/advisor-rates.sh`).
struct DecisionRuleSimulationTests {
    static let seeds = 300

    @Test(arguments: [0.0, 0.5])
    func everyRungJustShortOfTheTargetIsAlmostNeverCalledGoodEnough(rho: Double) async {
        // S1: twelve rungs all truly 0.85 against a target of 0.9, 40 cases each. Before this
        // rule: "meets" or "likely" in 79–93% of seeds.
        let simulation = LadderSimulation(
            cases: 40, zeroShot: [0.85, 0.85, 0.85], random: { _ in 0.85 }, similar: { _ in 0.85 }, retrieval: 0.85,
            rho: rho)
        let rates = await simulation.rates(seeds: Self.seeds)
        #expect(rates.meets <= 0.05)
    }

    @Test func tenVariantsAtTheTargetDoNotBuyAFalseMeets() async {
        // Picking the best of ten zero-shot variants is a look too: they join the Holm family.
        let simulation = LadderSimulation(
            cases: 80, zeroShot: [Double](repeating: 0.9, count: 10), random: { _ in 0.5 }, similar: { _ in 0.5 },
            retrieval: 0.5, rho: 0.5)
        #expect(await simulation.rates(seeds: Self.seeds).meets <= 0.05)
    }

    @Test func guessingAmongFiveLabelsIsAtBaseline() async {
        // Every rung answers uniformly at random over five labels (0.2) on 200 cases.
        let simulation = LadderSimulation(
            cases: 200, zeroShot: [0.2, 0.2, 0.2], random: { _ in 0.2 }, similar: { _ in 0.2 }, retrieval: 0.2,
            rho: 0, baseline: 0.2)
        // Holm keeps a false "above chance" for any rung at 5% at most: at baseline in ≥ 95% of
        // seeds, less two standard errors of 300 seeds.
        #expect(await simulation.rates(seeds: 300).atBaseline >= 0.92)
        let learned = LadderSimulation(
            cases: 200, zeroShot: [0.2, 0.2, 0.2], random: { _ in 0.7 }, similar: { _ in 0.7 }, retrieval: 0.2,
            rho: 0, baseline: 0.2)
        let rates = await learned.rates(seeds: 100) { $0.shots == 1 }
        #expect(rates.atBaseline == 0)
        #expect(rates.named >= 0.9, "the cheapest rungs that help: one example")
    }

    @Test func continuousScoresAtTheTargetAreCalledGoodEnoughAtMostAlpha() async {
        // Twelve rungs of scores in 0…1 (not pass/fail), each truly averaging exactly 0.9: three
        // of four cases score 1, the rest uniformly in 0.2…1.0 (mean 0.6), on 80 cases.
        let seeds = Self.seeds
        let meets = await onOwnThread {
            var generator = SeededGenerator(seed: 5)
            var meets = 0
            for _ in 0..<seeds {
                let rungs = (0..<12).map { index in
                    let scores = (0..<80).map { _ -> Double in
                        Double.random(in: 0..<1, using: &generator) < 0.75
                            ? 1 : Double.random(in: 0.2...1.0, using: &generator)
                    }
                    return Rung(
                        kind: index == 0 ? .zeroShot : .fewShot(k: index, selection: .similar), label: "r\(index)",
                        outcomes: Outcomes(
                            Dictionary(uniqueKeysWithValues: scores.enumerated().map { ($0.offset, $0.element) }),
                            passFail: false),
                        promptTokens: Double(40 + index), completionTokens: 1, computeSeconds: 0.1)
                }
                if DecisionRule.decide(rungs, target: 0.9, cost: CostModel())?.verdict == .meets { meets += 1 }
            }
            return meets
        }
        #expect(Double(meets) / Double(Self.seeds) <= 0.05)
    }

    @Test(arguments: [0.0, 0.5])
    func aRungAtTheTargetItselfIsCalledGoodEnoughAtMostAlpha(rho: Double) async {
        // The null at its edge: every rung truly exactly 0.9. The family-wise error is at most 5%.
        let simulation = LadderSimulation(
            cases: 80, zeroShot: [0.9, 0.9, 0.9], random: { _ in 0.9 }, similar: { _ in 0.9 }, retrieval: 0.9, rho: rho)
        #expect(await simulation.rates(seeds: Self.seeds).meets <= 0.05)
    }

    @Test(arguments: [0.0, 0.5])
    func aRungTrulyWellAboveTheTargetIsFound(rho: Double) async {
        // S3: 4-shot similar truly 0.97, the rest 0.85. At 160 cases it is shown to meet 0.9 and
        // chosen in about 80–97% of seeds. (At 80 cases no test that keeps its error rate can do
        // it reliably: even one exact test chosen in advance, at 5% with no correction for the
        // other rungs, needs 77 of 80 and gets them 78% of the time; across twelve rungs, 30%.)
        let simulation = LadderSimulation(
            cases: 160, zeroShot: [0.85, 0.85, 0.85], random: { _ in 0.85 }, similar: { $0 == 4 ? 0.97 : 0.85 },
            retrieval: 0.85, rho: rho)
        let rates = await simulation.rates(seeds: Self.seeds) { $0.kind == .fewShot(k: 4, selection: .similar) }
        #expect(rates.named >= 0.80)
        #expect(rates.meets >= 0.70)
    }

    @Test(arguments: [0.0, 0.5])
    func aCostlierRungThatIsNotReallyBetterIsNotChosen(rho: Double) async {
        // S4: retrieval truly 0.825 against zero-shot 0.80 (the rest 0.5), at +400 prompt tokens.
        // Before: retrieval chosen in about 55% of seeds.
        let simulation = LadderSimulation(
            cases: 40, zeroShot: [0.80, 0.50, 0.50], random: { _ in 0.5 }, similar: { _ in 0.5 }, retrieval: 0.825,
            rho: rho)
        let rates = await simulation.rates(seeds: Self.seeds) { $0.kind == .retrieval(passages: 3) }
        #expect(rates.named <= 0.10)
        #expect(rates.meets == 0)
    }

    @Test func aProjectionNeverDecidesAndIsRarelyBelieved() async {
        // P: a true few-shot curve 0.82 − 0.30·(k+1)^−0.8 that never reaches 0.9. Before, the
        // projected fine-tune made the verdict "likely" in about a third of seeds.
        let curve: @Sendable (Int) -> Double = { k in 0.82 - 0.30 * pow(Double(k + 1), -0.8) }
        let simulation = LadderSimulation(
            cases: 40, zeroShot: [curve(0), curve(0), curve(0)], random: curve, similar: curve, retrieval: curve(0),
            rho: 0.5)
        let seeds = Self.seeds
        let (meets, fineTuningScenarios, promisesTarget) = await onOwnThread {
            var counts = (0, 0, 0)
            for seed in 0..<seeds {
                let outcome = simulation.run(seed: UInt64(seed))
                if outcome.decision.verdict == .meets { counts.0 += 1 }
                if outcome.projection.atTrainSize != nil { counts.1 += 1 }
                if outcome.projection.examplesToReach != nil { counts.2 += 1 }
            }
            return counts
        }
        #expect(meets == 0)
        // 80 train cases is beyond what a backtest from k = 4 to 8 supports: never projected.
        #expect(fineTuningScenarios == 0)
        #expect(Double(promisesTarget) / Double(Self.seeds) <= 0.05)
    }
}
