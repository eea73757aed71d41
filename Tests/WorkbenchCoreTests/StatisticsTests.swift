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

    @Test func pairedBootstrapFindsARealDifferenceAndNotANoisyOne() {
        var generator = SeededGenerator(seed: 3)
        let base = (0..<200).map { _ in Double(generator.next() % 100) / 100 }
        let better = base.map { min(1, $0 + 0.1) }
        let real = Statistics.pairedBootstrap(better, base)
        #expect(real.p < 0.001)
        #expect(real.difference.lower > 0)
        let noise = base.enumerated().map { index, value in index % 2 == 0 ? min(1, value + 0.05) : max(0, value - 0.05)
        }
        #expect(Statistics.pairedBootstrap(noise, base).p > 0.05)
        #expect(Statistics.pairedBootstrap(base, base).p == 1)
    }

    @Test func comparisonsPickTheTestThatFitsTheScores() {
        let a: [Int: Double] = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 < 12 ? 1 : 0) })
        let b: [Int: Double] = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 < 4 ? 1 : 0) })
        let passFail = Comparisons.paired(a, b, passFail: true)
        #expect(passFail.method == .mcnemar)
        #expect(passFail.onlyA == 8 && passFail.onlyB == 0)
        #expect(abs(passFail.p - 0.0078125) < 1e-12)
        #expect(abs(passFail.difference - 0.4) < 1e-12)
        let continuous = Comparisons.paired(a.mapValues { $0 * 0.9 }, b, passFail: false)
        #expect(continuous.method == .bootstrap)
        let adjusted = Comparisons.adjusted([passFail, passFail])
        #expect(abs(adjusted[0].adjustedP - 0.015625) < 1e-12)
    }

    @Test func intervalsWidenWithTheSquareRootOfTheCap() {
        #expect(abs(Statistics.widening(capped: 20, full: 80) - 2) < 1e-12)
    }
}
