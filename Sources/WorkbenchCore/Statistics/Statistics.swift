import Foundation

/// A 95% (or other) confidence interval around a point estimate.
package struct Interval: Sendable, Hashable, Codable {
    package var estimate: Double
    package var lower: Double
    package var upper: Double

    package init(estimate: Double, lower: Double, upper: Double) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
    }

    /// Half the interval's width: the "±" a table shows.
    package var halfWidth: Double { (upper - lower) / 2 }
}

/// A small, fast, seedable random number generator (SplitMix64), so bootstraps and few-shot
/// draws give the same answer for the same seed on every machine.
package struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Confidence intervals and paired significance tests for comparing prompt variants.
package enum Statistics {
    /// The two-sided 97.5% normal quantile, for 95% intervals.
    package static let z95 = 1.959963984540054

    /// The standard normal quantile: the z with Φ(z) = `p`, by bisection on erfc (to 1e-12).
    package static func normalQuantile(_ p: Double) -> Double {
        guard p > 0 else { return -.infinity }
        guard p < 1 else { return .infinity }
        var (low, high) = (-40.0, 40.0)
        for _ in 0..<200 where high - low > 1e-12 {
            let middle = (low + high) / 2
            if 0.5 * erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
        }
        return (low + high) / 2
    }

    /// The Wilson score interval for `successes` out of `trials` (better than the normal
    /// approximation near 0 and 1 and for small samples).
    package static func wilson(successes: Int, trials: Int, z: Double = z95) -> Interval {
        wilson(successes: Double(successes), trials: trials, z: z)
    }

    /// The Wilson interval for a possibly fractional count of successes (a case's share of
    /// passing samples counts as that fraction of a success).
    package static func wilson(successes: Double, trials: Int, z: Double = z95) -> Interval {
        guard trials > 0 else { return Interval(estimate: 0, lower: 0, upper: 1) }
        let n = Double(trials)
        let p = successes / n
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let margin = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return Interval(estimate: p, lower: max(0, center - margin), upper: min(1, center + margin))
    }

    /// The least-squares line through (`xs`, `ys`): its slope and intercept; nil when the xs do
    /// not vary.
    package static func leastSquares(_ xs: [Double], _ ys: [Double]) -> (slope: Double, intercept: Double)? {
        let meanX = mean(xs)
        let meanY = mean(ys)
        var covariance = 0.0
        var variance = 0.0
        for (x, y) in zip(xs, ys) {
            covariance += (x - meanX) * (y - meanY)
            variance += (x - meanX) * (x - meanX)
        }
        guard variance > 0 else { return nil }
        let slope = covariance / variance
        return (slope, meanY - slope * meanX)
    }

    package static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The `q` quantile (0...1) by linear interpolation between order statistics (numpy's default).
    package static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// A 95% interval for the mean of scores in 0…1: a percentile bootstrap over the values, except
    /// where a bootstrap cannot see the spread — fewer than `minimumForBootstrap` values, or all of
    /// them equal — where it is the Wilson interval of the mean taken as a share of successes. A
    /// score in 0…1 with mean μ has a variance of at most μ(1−μ), so that interval is, if anything,
    /// wide; it never collapses to a point, whatever the data.
    package static func bootstrapMean(_ values: [Double], resamples: Int = 2000, seed: UInt64 = 1) -> Interval {
        let estimate = mean(values)
        let bounded = values.allSatisfy { (0...1).contains($0) }
        let varies = values.contains { $0 != values[0] }
        if values.count < minimumForBootstrap || !varies {
            guard bounded else { return Interval(estimate: estimate, lower: -.infinity, upper: .infinity) }
            return wilson(successes: estimate * Double(values.count), trials: values.count)
        }
        return percentileInterval(estimate: estimate, resampling: values, resamples: resamples, seed: seed)
    }

    /// The 2.5% and 97.5% quantiles of the means of `resamples` seeded resamples of `values`.
    static func percentileInterval(estimate: Double, resampling values: [Double], resamples: Int, seed: UInt64)
        -> Interval
    {
        var generator = SeededGenerator(seed: seed)
        var means = [Double](repeating: 0, count: resamples)
        let n = values.count
        for r in 0..<resamples {
            var sum = 0.0
            for _ in 0..<n { sum += values[Int(generator.next() % UInt64(n))] }
            means[r] = sum / Double(n)
        }
        return Interval(estimate: estimate, lower: quantile(means, 0.025), upper: quantile(means, 0.975))
    }

    /// Below this many values a bootstrap interval is too narrow to trust (it cannot show more
    /// spread than the few values have).
    package static let minimumForBootstrap = 10

    /// The exact one-sided binomial p-value P(X ≥ successes) for X ~ Binomial(trials, probability),
    /// summed in log space so it holds for thousands of trials.
    package static func binomialUpperTail(successes: Int, trials: Int, probability: Double) -> Double {
        guard successes > 0 else { return 1 }
        guard successes <= trials else { return 0 }
        if probability <= 0 { return 0 }
        if probability >= 1 { return 1 }
        let logP = log(probability)
        let logQ = log1p(-probability)
        var terms: [Double] = []
        for i in successes...trials {
            terms.append(logChoose(trials, i) + Double(i) * logP + Double(trials - i) * logQ)
        }
        let largest = terms.max()!
        let sum = terms.reduce(0) { $0 + exp($1 - largest) }
        return min(1, exp(largest + log(sum)))
    }

    /// A one-sided test that the mean of scores in 0…1 is above `null`, valid at any sample size
    /// and for any distribution in 0…1: a bet against the null, placed case by case in the given
    /// order, whose wealth under the null is a nonnegative supermartingale, so by Ville's
    /// inequality `1 / (largest wealth)` is a p-value. (Testing by betting, as in Waudby-Smith and
    /// Ramdas, "Estimating means of bounded random variables by betting", JRSS-B 2024, with their
    /// predictable plug-in bet.) The order must not depend on the scores: pass them by case id.
    /// - Parameter horizon: the most values the test may see, fixed before any is seen: the bets
    ///   are sized for it. A test that may be looked at again after more cases (rounds of a
    ///   follow-up) gives it the most cases there could be; each look's p-value is then valid
    ///   whenever it is looked at, since the wealth is a supermartingale whatever the stopping time.
    package static func bettingUpperTest(_ values: [Double], null: Double, horizon: Int? = nil) -> Double {
        guard null > 0 else { return values.contains { $0 > 0 } ? 0 : 1 }
        guard null < 1 else { return 1 }
        var wealth = 1.0
        var largest = 1.0
        var sum = 0.0
        var squares = 0.25
        let log2Alpha = log(2 / 0.05)
        for (index, value) in values.enumerated() {
            let seen = Double(index)
            let runningMean = (0.5 + sum) / (seen + 1)
            let variance = squares / (seen + 1)
            let bet = min(
                (2 * log2Alpha / (Double(max(horizon ?? 0, values.count)) * variance)).squareRoot(), 0.75 / null)
            wealth *= 1 + bet * (min(1, max(0, value)) - null)
            largest = max(largest, wealth)
            sum += value
            squares += (value - runningMean) * (value - runningMean)
        }
        return min(1, 1 / largest)
    }

    /// The exact two-sided McNemar test on paired pass/fail outcomes: `onlyA` pairs where only A
    /// passed, `onlyB` where only B did. The p-value of a binomial test of the discordant pairs
    /// against 1/2.
    package static func mcnemarExact(onlyA: Int, onlyB: Int) -> Double {
        guard let (tail, _) = discordantTail(onlyA, onlyB) else { return 1 }
        return min(1, 2 * tail)
    }

    /// The mid-p McNemar test: the exact test less half the probability of the observed split.
    /// Closer to the nominal level than the exact test (which is conservative), but no longer
    /// guaranteed to stay below it; reports name it when it is used.
    package static func mcnemarMidP(onlyA: Int, onlyB: Int) -> Double {
        guard let (tail, atSplit) = discordantTail(onlyA, onlyB) else { return 1 }
        return min(1, 2 * (tail - atSplit / 2))
    }

    /// P(X ≤ k) and P(X = k) for X ~ Binomial(n, 1/2), n the discordant pairs and k the smaller
    /// side, in log space for large n; nil without discordant pairs.
    static func discordantTail(_ onlyA: Int, _ onlyB: Int) -> (tail: Double, atSplit: Double)? {
        let n = onlyA + onlyB
        guard n > 0 else { return nil }
        let k = min(onlyA, onlyB)
        let probability = { (i: Int) in exp(logChoose(n, i) - Double(n) * log(2.0)) }
        return ((0...k).reduce(0) { $0 + probability($1) }, probability(k))
    }

    /// The paired sign-flip permutation test of a mean difference (two-sided): under the null each
    /// difference is as likely positive as negative. Exact over every sign pattern for up to 12
    /// nonzero differences; otherwise up to `resamples` random patterns, stopping once 20 of them
    /// are as extreme as the data (Besag and Clifford's sequential p-value, h/ℓ, which is valid and
    /// makes a clearly null comparison cheap), else (c+1)/(B+1), so that it holds its level.
    package static func signFlipTest(_ differences: [Double], resamples: Int = 4999, seed: UInt64 = 1) -> Double {
        let nonzero = differences.filter { $0 != 0 }
        guard !nonzero.isEmpty else { return 1 }
        let observed = abs(nonzero.reduce(0, +))
        let threshold = observed - 1e-9 * max(1, observed)
        if nonzero.count <= 12 {
            var atLeast = 0
            let patterns = 1 << nonzero.count
            for pattern in 0..<patterns {
                var sum = 0.0
                for index in nonzero.indices { sum += pattern & (1 << index) != 0 ? -nonzero[index] : nonzero[index] }
                if abs(sum) >= threshold { atLeast += 1 }
            }
            return Double(atLeast) / Double(patterns)
        }
        let enough = 20
        var generator = SeededGenerator(seed: seed)
        var atLeast = 0
        for drawn in 1...max(1, resamples) {
            var sum = 0.0
            var signs: UInt64 = 0
            for index in nonzero.indices {
                if index & 63 == 0 { signs = generator.next() }
                sum += signs & 1 == 0 ? nonzero[index] : -nonzero[index]
                signs >>= 1
            }
            if abs(sum) >= threshold {
                atLeast += 1
                if atLeast == enough { return Double(enough) / Double(drawn) }
            }
        }
        return Double(atLeast + 1) / Double(resamples + 1)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// The 95% percentile-bootstrap interval of the mean difference `a − b` over the same cases.
    /// (Its p-value comes from the sign-flip test, which holds its level at small n where a
    /// bootstrap p-value does not.)
    package static func pairedBootstrap(_ a: [Double], _ b: [Double], resamples: Int = 2000, seed: UInt64 = 1)
        -> Interval
    {
        precondition(a.count == b.count, "paired samples must have the same length")
        let differences = zip(a, b).map { $0 - $1 }
        let observed = mean(differences)
        guard differences.count >= minimumForBootstrap else {
            // Too few pairs to see the spread: the widest a difference of 0…1 scores can be.
            return Interval(estimate: observed, lower: max(-1, observed - 1), upper: min(1, observed + 1))
        }
        guard differences.contains(where: { $0 != differences[0] }) else {
            // Every pair differs by the same amount: no spread seen, so ± the rule of three (3/n,
            // the 95% bound on a rate never observed), not a zero-width interval.
            let margin = 3 / Double(differences.count)
            return Interval(estimate: observed, lower: max(-1, observed - margin), upper: min(1, observed + margin))
        }
        return percentileInterval(estimate: observed, resampling: differences, resamples: resamples, seed: seed)
    }

    /// Holm's step-down adjustment of p-values for several comparisons (same order as given).
    package static func holm(_ pValues: [Double]) -> [Double] {
        let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
        var adjusted = [Double](repeating: 1, count: pValues.count)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            let value = min(1, Double(pValues.count - rank) * pValues[index])
            running = max(running, value)
            adjusted[index] = running
        }
        return adjusted
    }

    /// How much wider a 95% interval is with `capped` cases than with `full` (its width scales
    /// as one over the square root of the sample size).
    package static func widening(capped: Int, full: Int) -> Double {
        guard capped > 0, full > 0 else { return 1 }
        return sqrt(Double(full) / Double(capped))
    }
}
