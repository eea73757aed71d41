import Foundation

/// chrF (Popović 2015): the F-score (β = 2) of character n-grams, n = 1…6, averaged over n,
/// whitespace ignored.
package struct ChrFScorer: PlainScorer {
    package static let name = "chrf"
    package static let isPassFail = false

    package init() {}

    package var baseline: ScorerBaseline { .trivialFloor }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        Score(value: ChrFScorer.chrF(output, expected.text))
    }

    package static func chrF(_ hypothesis: String, _ reference: String, maxN: Int = 6, beta: Double = 2) -> Double {
        let hyp = Array(hypothesis.filter { !$0.isWhitespace })
        let ref = Array(reference.filter { !$0.isWhitespace })
        if hyp.isEmpty && ref.isEmpty { return 1 }
        guard !hyp.isEmpty, !ref.isEmpty else { return 0 }
        var precisions: [Double] = []
        var recalls: [Double] = []
        for n in 1...maxN {
            guard hyp.count >= n, ref.count >= n else { continue }
            var refCounts: [String: Int] = [:]
            for i in 0...(ref.count - n) { refCounts[String(ref[i..<(i + n)]), default: 0] += 1 }
            var matches = 0
            var hypCounts: [String: Int] = [:]
            for i in 0...(hyp.count - n) { hypCounts[String(hyp[i..<(i + n)]), default: 0] += 1 }
            for (gram, count) in hypCounts { matches += min(count, refCounts[gram] ?? 0) }
            precisions.append(Double(matches) / Double(hyp.count - n + 1))
            recalls.append(Double(matches) / Double(ref.count - n + 1))
        }
        guard !precisions.isEmpty else { return 0 }
        let p = Statistics.mean(precisions)
        let r = Statistics.mean(recalls)
        guard p + r > 0 else { return 0 }
        let b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r)
    }
}
