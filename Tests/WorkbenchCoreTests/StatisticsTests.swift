import Foundation
import Testing
import WorkbenchCore

/// Reference values computed with scipy 1.17 and numpy 2.4:
/// `scipy.stats.binomtest(k, n).proportion_ci(method='wilson')` for Wilson intervals,
/// `scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue` for the exact McNemar test,
/// `numpy.quantile(values, q)` for quantiles, and a direct implementation of Holm's method.
struct StatisticsTests {
    @Test(arguments: [
        (8, 20, 0.21880653237281705, 0.6134184992377467),
        (0, 20, 0.0, 0.16112515805281935),
        (20, 20, 0.8388748419471808, 1.0),
        (37, 80, 0.3574799356278525, 0.5709564240873121),
        (1, 3, 0.06149194472039626, 0.7923403991979523),
    ])
    func wilsonMatchesScipy(successes: Int, trials: Int, lower: Double, upper: Double) {
        let interval = Statistics.wilson(successes: successes, trials: trials)
        #expect(abs(interval.lower - lower) < 1e-9)
        #expect(abs(interval.upper - upper) < 1e-9)
        #expect(interval.estimate == Double(successes) / Double(trials))
    }

    @Test(arguments: [
        (8, 0, 0.0078125), (5, 3, 0.7265625), (10, 2, 0.03857421875), (0, 0, 1.0), (12, 30, 0.007915897334896727),
        (1, 1, 1.0),
    ])
    func exactMcNemarMatchesScipy(onlyA: Int, onlyB: Int, p: Double) {
        #expect(abs(Statistics.mcnemarExact(onlyA: onlyA, onlyB: onlyB) - p) < 1e-12)
    }

    @Test(arguments: [(0.5, 0.35), (0.95, 0.8399999999999999), (0.025, 0.115), (0.975, 0.8699999999999999)])
    func quantilesMatchNumpy(q: Double, expected: Double) {
        #expect(abs(Statistics.quantile([0.1, 0.5, 0.2, 0.9, 0.7, 0.3, 0.35], q) - expected) < 1e-12)
    }

    @Test func holmAdjustsInStepDownOrder() {
        #expect(
            Statistics.holm([0.01, 0.04, 0.03, 0.2]).map { ($0 * 1e9).rounded() / 1e9 } == [0.04, 0.09, 0.09, 0.2])
        #expect(Statistics.holm([0.5]) == [0.5])
    }

    @Test func bootstrapIsSeededAndCloseToTheNormalInterval() {
        var generator = SeededGenerator(seed: 42)
        let values = (0..<400).map { _ in Double(generator.next() % 1000) / 1000 }
        let a = Statistics.bootstrapMean(values, seed: 7)
        let b = Statistics.bootstrapMean(values, seed: 7)
        #expect(a == b)
        #expect(a.lower < a.estimate && a.estimate < a.upper)
        let mean = Statistics.mean(values)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
        let normalHalfWidth = 1.96 * sd / Double(values.count).squareRoot()
        #expect(abs(a.halfWidth - normalHalfWidth) / normalHalfWidth < 0.15)
    }

    @Test func pairedTestsFindARealDifferenceAndNotANoisyOne() {
        var generator = SeededGenerator(seed: 3)
        let base = (0..<200).map { _ in Double(generator.next() % 100) / 100 }
        let better = base.map { min(1, $0 + 0.1) }
        let real = Statistics.pairedBootstrap(better, base)
        #expect(real.lower > 0)
        #expect(Statistics.signFlipTest(zip(better, base).map { $0 - $1 }) < 0.001)
        let noise = base.enumerated().map { index, value in index % 2 == 0 ? min(1, value + 0.05) : max(0, value - 0.05)
        }
        #expect(Statistics.signFlipTest(zip(noise, base).map { $0 - $1 }) > 0.05)
        #expect(Statistics.signFlipTest(zip(base, base).map { $0 - $1 }) == 1)
        // No spread seen: never a zero-width interval.
        let same = Statistics.pairedBootstrap(base, base)
        #expect(same.lower < 0 && same.upper > 0)
    }

    @Test func comparisonsPickTheTestThatFitsTheScores() {
        let a: [Int: Double] = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 < 12 ? 1 : 0) })
        let b: [Int: Double] = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 < 4 ? 1 : 0) })
        let passFail = Comparisons.paired(a, b, passFail: true)
        #expect(passFail.method == .mcnemar)
        #expect(passFail.onlyA == 8 && passFail.onlyB == 0)
        #expect(abs(passFail.p - 0.0078125) < 1e-12)
        #expect(abs(passFail.difference - 0.4) < 1e-12)
        let midP = Comparisons.paired(a, b, passFail: true, midP: true)
        #expect(midP.method == .mcnemarMidP && abs(midP.p - 0.003906249999999993) < 1e-12)
        let continuous = Comparisons.paired(a.mapValues { $0 * 0.9 }, b, passFail: false)
        #expect(continuous.method == .signFlip)
        let adjusted = Comparisons.adjusted([passFail, passFail])
        #expect(abs(adjusted[0].adjustedP - 0.015625) < 1e-12)
        let worse = Comparisons.paired(b, a, passFail: true)
        #expect(worse.direction == "worse" && passFail.direction == "better")
    }

    /// `scipy.stats.binomtest(x, n, p, alternative='greater').pvalue`.
    @Test(arguments: [
        (38, 40, 0.9, 0.22280812433940309), (80, 80, 0.9, 0.00021847450052839227), (5, 10, 0.3, 0.15026833259999992),
        (0, 10, 0.5, 1.0), (72, 80, 0.9, 0.5926764978434553), (77, 80, 0.9, 0.035306258481137706),
    ])
    func binomialUpperTailMatchesScipy(successes: Int, trials: Int, p0: Double, p: Double) {
        #expect(abs(Statistics.binomialUpperTail(successes: successes, trials: trials, probability: p0) - p) < 1e-12)
    }

    /// 2·(P(X ≤ k) − P(X = k)/2) with X ~ Binomial(b + c, 1/2), from scipy.stats.binom.
    @Test(arguments: [(3, 10, 0.05737304687500002), (8, 0, 0.003906249999999993), (5, 5, 1.0), (1, 0, 0.5)])
    func midPMcNemarMatchesScipy(onlyA: Int, onlyB: Int, p: Double) {
        #expect(abs(Statistics.mcnemarMidP(onlyA: onlyA, onlyB: onlyB) - p) < 1e-12)
    }

    @Test func signFlipIsExactForFewPairs() {
        // All 2^7 sign patterns of the nonzero differences enumerated in Python: 4 of 128 are at
        // least as far from zero as the observed sum.
        let p = Statistics.signFlipTest([0.5, 0.25, -0.1, 0.4, 0.3, 0.2, 0.0, 0.6])
        #expect(abs(p - 4.0 / 128) < 1e-12)
    }

    @Test(arguments: [8, 12, 15, 40])
    func pairedTestsHoldTheirLevelAtSmallN(n: Int) async {
        // Under the null (no difference, skewed scores in 0…1), reject at 5% in at most 5% of
        // 1,000 seeds (plus 1.5 points of simulation error).
        let rejections = await onOwnThread {
            var generator = SeededGenerator(seed: UInt64(n))
            var rejections = 0
            for seed in 0..<1000 {
                let differences = (0..<n).map { _ -> Double in
                    let a = pow(Double.random(in: 0..<1, using: &generator), 3)
                    let b = pow(Double.random(in: 0..<1, using: &generator), 3)
                    return a - b
                }
                if Statistics.signFlipTest(differences, resamples: 999, seed: UInt64(seed)) < 0.05 { rejections += 1 }
            }
            return rejections
        }
        #expect(Double(rejections) / 1000 <= 0.065)
    }

    @Test func theBettingTestHoldsItsLevelAndFindsARealExcess() async {
        let (falseCalls, found) = await onOwnThread {
            var generator = SeededGenerator(seed: 11)
            var counts = (0, 0)
            for _ in 0..<500 {
                // Scores in 0…1 with mean exactly 0.8 (three of four are 1, the rest uniform on 0…0.4).
                let null = (0..<40).map { _ -> Double in
                    Double.random(in: 0..<1, using: &generator) < 0.75
                        ? 1 : Double.random(in: 0..<0.4, using: &generator)
                }
                if Statistics.bettingUpperTest(null, null: 0.8) < 0.05 { counts.0 += 1 }
                let better = (0..<80).map { _ in Double.random(in: 0.9...1, using: &generator) }
                if Statistics.bettingUpperTest(better, null: 0.8) < 0.05 { counts.1 += 1 }
            }
            return counts
        }
        #expect(Double(falseCalls) / 500 <= 0.05)
        #expect(Double(found) / 500 >= 0.95)
    }

    @Test func intervalsNeverCollapseOnTooLittleData() {
        let one = Statistics.bootstrapMean([0.7])
        #expect(one.lower < 0.7 && one.upper > 0.7)
        let flat = Statistics.bootstrapMean([Double](repeating: 1, count: 30))
        #expect(flat.upper > 0.999 && flat.lower < 0.95)
        let few = Statistics.bootstrapMean([0.5, 0.6, 0.55])
        #expect(few.upper - few.lower > 0.3, "three values cannot pin a mean down to their own spread")
    }

    @Test func intervalsWidenWithTheSquareRootOfTheCap() {
        #expect(abs(Statistics.widening(capped: 20, full: 80) - 2) < 1e-12)
    }
}
