/// Whether one run's score is really different from another's on the same cases.
public struct Comparison: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        /// Exact McNemar test on paired pass/fail outcomes.
        case mcnemar = "exact McNemar"
        /// Paired bootstrap of the mean difference.
        case bootstrap = "paired bootstrap"
    }

    /// Cases both runs scored.
    public var pairs: Int
    /// Mean of A minus mean of B on those cases.
    public var difference: Double
    /// The 95% interval of the difference (bootstrap only).
    public var interval: Interval?
    public var method: Method
    public var p: Double
    /// After Holm's correction when several comparisons are made together.
    public var adjustedP: Double
    /// Pairs where only A passed and only B passed (McNemar only).
    public var onlyA: Int?
    public var onlyB: Int?

    public var isSignificant: Bool { adjustedP < 0.05 }

    public var json: JSONValue {
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

public enum Comparisons {
    /// Compares per-case scores of A and B on the cases both have. Pass/fail scores with one
    /// sample per case use the exact McNemar test; anything else the paired bootstrap.
    public static func paired(
        _ a: [Int: Double], _ b: [Int: Double], passFail: Bool, seed: UInt64 = 1
    ) -> Comparison {
        let shared = Set(a.keys).intersection(b.keys).sorted()
        let valuesA = shared.map { a[$0]! }
        let valuesB = shared.map { b[$0]! }
        let difference = Statistics.mean(valuesA) - Statistics.mean(valuesB)
        let binary = passFail && (valuesA + valuesB).allSatisfy { $0 == 0 || $0 == 1 }
        if binary {
            let onlyA = zip(valuesA, valuesB).count { $0 == 1 && $1 == 0 }
            let onlyB = zip(valuesA, valuesB).count { $0 == 0 && $1 == 1 }
            let p = Statistics.mcnemarExact(onlyA: onlyA, onlyB: onlyB)
            return Comparison(
                pairs: shared.count, difference: difference, interval: nil, method: .mcnemar, p: p, adjustedP: p,
                onlyA: onlyA, onlyB: onlyB)
        }
        let (interval, p) = Statistics.pairedBootstrap(valuesA, valuesB, seed: seed)
        return Comparison(
            pairs: shared.count, difference: difference, interval: interval, method: .bootstrap, p: p, adjustedP: p)
    }

    /// Adjusts the p-values of comparisons made together (Holm), when there is more than one.
    public static func adjusted(_ comparisons: [Comparison]) -> [Comparison] {
        guard comparisons.count > 1 else { return comparisons }
        let adjusted = Statistics.holm(comparisons.map(\.p))
        return zip(comparisons, adjusted).map { comparison, p in
            var copy = comparison
            copy.adjustedP = p
            return copy
        }
    }
}
