import Foundation

/// A 95% (or other) confidence interval around a point estimate.
public struct Interval: Sendable, Hashable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    public init(estimate: Double, lower: Double, upper: Double) {
        self.estimate = estimate
        self.lower = lower
        self.upper = upper
    }

    /// Half the interval's width: the "±" a table shows.
    public var halfWidth: Double { (upper - lower) / 2 }
}

/// A small, fast, seedable random number generator (SplitMix64), so bootstraps and few-shot
/// draws give the same answer for the same seed on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Confidence intervals and paired significance tests for comparing prompt variants.
public enum Statistics {
    /// The two-sided 97.5% normal quantile, for 95% intervals.
    public static let z95 = 1.959963984540054

    /// The Wilson score interval for `successes` out of `trials` (better than the normal
    /// approximation near 0 and 1 and for small samples).
    public static func wilson(successes: Int, trials: Int, z: Double = z95) -> Interval {
        wilson(successes: Double(successes), trials: trials, z: z)
    }

    /// The Wilson interval for a possibly fractional count of successes (a case's share of
    /// passing samples counts as that fraction of a success).
    public static func wilson(successes: Double, trials: Int, z: Double = z95) -> Interval {
        guard trials > 0 else { return Interval(estimate: 0, lower: 0, upper: 1) }
        let n = Double(trials)
        let p = successes / n
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let margin = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return Interval(estimate: p, lower: max(0, center - margin), upper: min(1, center + margin))
    }

    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The `q` quantile (0...1) by linear interpolation between order statistics (numpy's default).
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// A percentile bootstrap interval for the mean, with `resamples` draws from `seed`.
    public static func bootstrapMean(_ values: [Double], resamples: Int = 2000, seed: UInt64 = 1) -> Interval {
        let estimate = mean(values)
        guard values.count > 1 else { return Interval(estimate: estimate, lower: estimate, upper: estimate) }
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

    /// The exact two-sided McNemar test on paired pass/fail outcomes: `onlyA` pairs where only A
    /// passed, `onlyB` where only B did. The p-value of a binomial test of the discordant pairs
    /// against 1/2.
    public static func mcnemarExact(onlyA: Int, onlyB: Int) -> Double {
        let n = onlyA + onlyB
        guard n > 0 else { return 1 }
        let k = min(onlyA, onlyB)
        // P(X <= k) for X ~ Binomial(n, 1/2), doubled, in log space for large n.
        var tail = 0.0
        for i in 0...k { tail += exp(logChoose(n, i) - Double(n) * log(2.0)) }
        return min(1, 2 * tail)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// A paired bootstrap test of the mean difference `a - b` over the same cases: the interval of
    /// the difference and a two-sided p-value (twice the share of resampled differences on the
    /// other side of zero).
    public static func pairedBootstrap(_ a: [Double], _ b: [Double], resamples: Int = 2000, seed: UInt64 = 1)
        -> (difference: Interval, p: Double)
    {
        precondition(a.count == b.count, "paired samples must have the same length")
        let differences = zip(a, b).map { $0 - $1 }
        let observed = mean(differences)
        guard differences.count > 1 else { return (Interval(estimate: observed, lower: observed, upper: observed), 1) }
        var generator = SeededGenerator(seed: seed)
        let n = differences.count
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var sum = 0.0
            for _ in 0..<n { sum += differences[Int(generator.next() % UInt64(n))] }
            means[r] = sum / Double(n)
        }
        let atOrBelowZero = Double(means.count(where: { $0 <= 0 })) / Double(resamples)
        let atOrAboveZero = Double(means.count(where: { $0 >= 0 })) / Double(resamples)
        let p = min(1, 2 * min(atOrBelowZero, atOrAboveZero))
        if differences.allSatisfy({ $0 == 0 }) {
            return (Interval(estimate: 0, lower: 0, upper: 0), 1)
        }
        return (Interval(estimate: observed, lower: quantile(means, 0.025), upper: quantile(means, 0.975)), p)
    }

    /// Holm's step-down adjustment of p-values for several comparisons (same order as given).
    public static func holm(_ pValues: [Double]) -> [Double] {
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
    public static func widening(capped: Int, full: Int) -> Double {
        guard capped > 0, full > 0 else { return 1 }
        return sqrt(Double(full) / Double(capped))
    }
}
