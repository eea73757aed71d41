import Foundation
import WorkbenchCore

/// A stub model whose true accuracy on each rung is set, run over many seeds, to prove the
/// advisor's error rates: the decision rule is scored against outcomes whose right answer is known.
///
/// The ladder is the advisor's: three zero-shot variants (the best by estimate enters the
/// ladder, as `pwb advise` does), random few-shot rungs with three draws and similar few-shot
/// rungs at k = 1, 2, 4, 8, and retrieval. A rung (or draw) passes case i when
/// Φ(√ρ·zᵢ + √(1−ρ)·eᵢ) < its true accuracy, with zᵢ the case's shared difficulty and eᵢ fresh
/// noise: ρ = 0 makes rungs independent, ρ = 0.5 makes hard cases hard for every rung, as they
/// are for a real model.
struct LadderSimulation: Sendable {
    var cases: Int
    var zeroShot: [Double]
    var random: @Sendable (Int) -> Double
    var similar: @Sendable (Int) -> Double
    var retrieval: Double
    var rho: Double
    /// What a trivial answer scores, for a label task.
    var baseline: Double? = nil

    static let ks = [1, 2, 4, 8]

    struct Outcome {
        var decision: Decision
        var rungs: [Rung]
        var projection: Projection
        var chosen: Rung { rungs[decision.chosen] }
    }

    func run(seed: UInt64, target: Double = 0.9) -> Outcome {
        var normal = Normal(seed: seed)
        let difficulty = (0..<cases).map { _ in normal.next() }
        func outcomes(_ accuracy: Double) -> [Int: Double] {
            var scores: [Int: Double] = [:]
            for (i, z) in difficulty.enumerated() {
                let latent = rho.squareRoot() * z + (1 - rho).squareRoot() * normal.next()
                scores[i] = Normal.cdf(latent) < accuracy ? 1 : 0
            }
            return scores
        }
        func rung(_ kind: Rung.Kind, _ label: String, _ draws: [[Int: Double]], tokens: Double, examples: Int) -> Rung {
            Rung(
                kind: kind, label: label, outcomes: Outcomes(draws: draws, passFail: true), promptTokens: tokens,
                completionTokens: 2, computeSeconds: tokens * 0.001, labeledExamples: examples)
        }
        let variants = zeroShot.map(outcomes)
        let scores = variants.map { $0.values.reduce(0, +) }
        let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
        var rungs = [rung(.zeroShot, "zero-shot (v\(best + 1))", [variants[best]], tokens: 40, examples: 0)]
        var series: [(k: Int, perCase: [Int: Double])] = [(0, variants[best])]
        for k in Self.ks {
            let tokens = 40 + 45 * Double(k)
            let draws = (0..<3).map { _ in outcomes(random(k)) }
            let randomRung = rung(
                .fewShot(k: k, selection: .random), "\(k)-shot random", draws, tokens: tokens, examples: k)
            rungs.append(randomRung)
            rungs.append(
                rung(
                    .fewShot(k: k, selection: .similar), "\(k)-shot similar", [outcomes(similar(k))], tokens: tokens,
                    examples: 80))
            series.append((k, randomRung.outcomes.perCase))
        }
        rungs.append(
            rung(.retrieval(passages: 3), "retrieval (3 passages)", [outcomes(retrieval)], tokens: 440, examples: 0))
        // As the advisor does: the variants that lost were looked at too.
        let losers = variants.indices.filter { $0 != best }.map { Outcomes(variants[$0], passFail: true) }
        let decision = DecisionRule.decide(
            rungs, target: target, cost: CostModel(), baseline: baseline, alsoTested: losers, seed: seed)!
        let projection = Projection.project(series, target: target, trainSize: 80, resamples: 0, seed: seed)
        return Outcome(decision: decision, rungs: rungs, projection: projection)
    }

    /// Shares of seeds: verdict "meets", the chosen rung matching `named`, verdict "at baseline".
    /// Shares of seeds: verdict "meets", the chosen rung matching `named`, verdict "at baseline".
    /// The seeds run on a thread of their own (`onOwnThread`).
    func rates(seeds: Int, named: @escaping @Sendable (Rung) -> Bool = { _ in false }) async -> (
        meets: Double, named: Double, atBaseline: Double
    ) {
        await onOwnThread {
            var meets = 0
            var hits = 0
            var atBaseline = 0
            for seed in 0..<seeds {
                let outcome = run(seed: UInt64(seed))
                if outcome.decision.verdict == .meets { meets += 1 }
                if outcome.decision.verdict == .atBaseline { atBaseline += 1 }
                if named(outcome.chosen) { hits += 1 }
            }
            return (Double(meets) / Double(seeds), Double(hits) / Double(seeds), Double(atBaseline) / Double(seeds))
        }
    }
}

/// Runs CPU-bound work on a thread of its own and waits for it without holding one of the
/// executor's few threads (two on two cores), so that the tests waiting on sockets and timers
/// meanwhile are not starved into timing out.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// Standard normal draws (Box–Muller) from the project's seeded generator.
struct Normal {
    var generator: SeededGenerator
    var spare: Double?

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ 17)
    }

    mutating func next() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        var u = 0.0
        repeat { u = Double.random(in: 0..<1, using: &generator) } while u == 0
        let v = Double.random(in: 0..<1, using: &generator)
        let radius = (-2 * log(u)).squareRoot()
        spare = radius * sin(2 * .pi * v)
        return radius * cos(2 * .pi * v)
    }

    static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
}
