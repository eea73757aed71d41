/// Whether one run's score is really different from another's on the same cases.
package struct Comparison: Sendable, Hashable, Codable {
    package enum Method: String, Sendable, Hashable, Codable {
        /// Exact McNemar test on paired pass/fail outcomes.
        case mcnemar = "exact McNemar"
        /// Mid-p McNemar test (asked for with `--mid-p`): less conservative, not exact.
        case mcnemarMidP = "mid-p McNemar"
        /// Sign-flip permutation test of the mean difference (the interval is a paired bootstrap).
        case signFlip = "sign-flip permutation"
    }

    /// Cases both runs scored.
    package var pairs: Int
    /// Mean of A minus mean of B on those cases.
    package var difference: Double
    /// The 95% interval of the difference (bootstrap only).
    package var interval: Interval?
    package var method: Method
    package var p: Double
    /// After Holm's correction when several comparisons are made together.
    package var adjustedP: Double
    /// Pairs where only A passed and only B passed (McNemar only).
    package var onlyA: Int?
    package var onlyB: Int?

    package var isSignificant: Bool { adjustedP < 0.05 }

    /// `p=0.012`; `p<0.001` below that; never rounded across 0.05, so 0.0496 reads `p=0.0496`
    /// and 0.0504 reads `p=0.0504`, not both `p=0.050`.
    package static func pText(_ p: Double) -> String {
        "p" + pNumber(p)
    }

    /// `=0.012` or `<0.001`: the number of `pText`, rounded away from 0.05 near it (down below,
    /// up above), so a p-value's side of 0.05 is always the side its text shows.
    package static func pNumber(_ p: Double, spaced: Bool = false) -> String {
        let (equals, below) = spaced ? (" = ", " < ") : ("=", "<")
        if p < 0.001 { return below + "0.001" }
        if p >= 0.0495 && p < 0.05 { return equals + String(format: "%.4f", (p * 10_000).rounded(.down) / 10_000) }
        if p >= 0.05 && p < 0.0505 { return equals + String(format: "%.4f", (p * 10_000).rounded(.up) / 10_000) }
        return equals + String(format: "%.3f", p)
    }

    /// "better" or "worse": A against B, by the sign of the difference on the shared cases.
    package var direction: String { difference < 0 ? "worse" : "better" }

    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "pairs": .number(Double(pairs)), "difference": .number(difference), "method": .string(method.rawValue),
            "p": .number(p), "p_adjusted": .number(adjustedP), "significant": .bool(isSignificant),
        ]
        if let interval {
            object["ci_low"] = .number(interval.lower)
            object["ci_high"] = .number(interval.upper)
        }
        if let onlyA, let onlyB {
            object["only_a"] = .number(Double(onlyA))
            object["only_b"] = .number(Double(onlyB))
        }
        return .object(object)
    }
}

package enum Comparisons {
    /// Compares per-case scores of A and B on the cases both have. Pass/fail scores with one
    /// sample per case use the exact McNemar test (or its mid-p version when `midP`); anything
    /// else the sign-flip permutation test, with a paired bootstrap interval of the difference.
    package static func paired(
        _ a: [Int: Double], _ b: [Int: Double], passFail: Bool, midP: Bool = false, seed: UInt64 = 1
    ) -> Comparison {
        let shared = Set(a.keys).intersection(b.keys).sorted()
        let valuesA = shared.map { a[$0]! }
        let valuesB = shared.map { b[$0]! }
        let difference = Statistics.mean(valuesA) - Statistics.mean(valuesB)
        let binary = passFail && (valuesA + valuesB).allSatisfy { $0 == 0 || $0 == 1 }
        if binary {
            let onlyA = zip(valuesA, valuesB).count { $0 == 1 && $1 == 0 }
            let onlyB = zip(valuesA, valuesB).count { $0 == 0 && $1 == 1 }
            let p =
                midP
                ? Statistics.mcnemarMidP(onlyA: onlyA, onlyB: onlyB)
                : Statistics.mcnemarExact(onlyA: onlyA, onlyB: onlyB)
            return Comparison(
                pairs: shared.count, difference: difference, interval: nil, method: midP ? .mcnemarMidP : .mcnemar,
                p: p,
                adjustedP: p, onlyA: onlyA, onlyB: onlyB)
        }
        let interval = Statistics.pairedBootstrap(valuesA, valuesB, seed: seed)
        let p = Statistics.signFlipTest(zip(valuesA, valuesB).map { $0 - $1 }, seed: seed)
        return Comparison(
            pairs: shared.count, difference: difference, interval: interval, method: .signFlip, p: p, adjustedP: p)
    }

    /// Adjusts the p-values of comparisons made together (Holm), when there is more than one.
    package static func adjusted(_ comparisons: [Comparison]) -> [Comparison] {
        guard comparisons.count > 1 else { return comparisons }
        let adjusted = Statistics.holm(comparisons.map(\.p))
        return zip(comparisons, adjusted).map { comparison, p in
            var copy = comparison
            copy.adjustedP = p
            return copy
        }
    }
}
