import Foundation
import WorkbenchCore

/// A stub model whose true accuracy on each rung is set, run over many seeds, to prove the
/// advisor's error rates: the decision rule is scored against outcomes whose right answer is known.
///
/// The ladder is the advisor's: zero-shot variants (the best by estimate enters the ladder, as
/// `pwb advise` does), each random draw of examples a rung of its own and the similar rung at
/// k = 1, 2, 4, 8, and retrieval. A rung passes case i when Φ(√ρ·zᵢ + √(1−ρ)·eᵢ) < its true
/// accuracy, with zᵢ the case's shared difficulty and eᵢ fresh noise: ρ = 0 makes rungs
/// independent, ρ = 0.5 makes hard cases hard for every rung, as they are for a real model.
/// Every rung is scored on the first `cases` dev cases; while the decision is open, the follow-up
/// scores the contenders on more of the `pool` dev cases, as `pwb advise` does (`FollowUpPolicy`).
struct LadderSimulation: Sendable {
    var cases: Int
    /// Dev cases there are to score; more than `cases` leaves room for the follow-up.
    var pool: Int? = nil
    var zeroShot: [Double]
    var random: @Sendable (Int) -> Double
    var similar: @Sendable (Int) -> Double
    var retrieval: Double
    var rho: Double
    /// What a trivial answer scores, for a label task.
    var baseline: Double? = nil
    var draws = 3
    var margin = DecisionRule.defaultMargin
    var target = 0.9

    static let ks = [1, 2, 4, 8]

    struct Outcome {
        var decision: Decision
        var rungs: [Rung]
        /// The true accuracy of each rung.
        var truth: [Double]
        var projection: Projection
        var chosen: Rung { rungs[decision.chosen] }
        /// The chosen rung is truly within the margin of the truly best rung.
        func chosenNearBest(margin: Double) -> Bool {
            truth[decision.chosen] >= truth.max()! - margin - 1e-12
        }
        /// The chosen rung is (one of) the cheapest.
        var chosenCheapest: Bool { decision.chosen == 0 }
        /// A cheaper rung was chosen as within the margin of the best by score, but is truly more
        /// than the margin worse than it: the error the burden of proof bounds.
        func falseNearClaim(margin: Double) -> Bool {
            decision.chosen != decision.best && truth[decision.chosen] < truth[decision.best] - margin - 1e-12
        }
    }

    func run(seed: UInt64) -> Outcome {
        let pool = max(self.pool ?? cases, cases)
        var normal = Normal(seed: seed)
        let difficulty = (0..<pool).map { _ in normal.next() }
        func outcomes(_ accuracy: Double) -> [Double] {
            difficulty.map { z in
                let latent = rho.squareRoot() * z + (1 - rho).squareRoot() * normal.next()
                return Normal.cdf(latent) < accuracy ? 1 : 0
            }
        }
        func first(_ scores: [Double], _ count: Int) -> Outcomes {
            Outcomes(
                Dictionary(uniqueKeysWithValues: scores.prefix(count).enumerated().map { ($0, $1) }), passFail: true)
        }
        var all: [[Double]] = []
        var truth: [Double] = []
        var rungs: [Rung] = []
        func add(_ kind: Rung.Kind, _ label: String, _ accuracy: Double, tokens: Double, examples: Int) {
            let scores = outcomes(accuracy)
            all.append(scores)
            truth.append(accuracy)
            rungs.append(
                Rung(
                    kind: kind, label: label, outcomes: first(scores, cases), promptTokens: tokens,
                    completionTokens: 2, computeSeconds: tokens * 0.001, labeledExamples: examples))
        }
        let variants = zeroShot.map(outcomes)
        let scores = variants.map { $0.prefix(cases).reduce(0, +) }
        let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
        all.append(variants[best])
        truth.append(zeroShot[best])
        rungs.append(
            Rung(
                kind: .zeroShot, label: "zero-shot (v\(best + 1))", outcomes: first(variants[best], cases),
                promptTokens: 40, completionTokens: 2, computeSeconds: 0.04))
        var series: [(k: Int, perCase: [Int: Double])] = [(0, rungs[0].outcomes.perCase)]
        for k in Self.ks {
            let tokens = 40 + 45 * Double(k)
            let first = rungs.count
            for draw in 0..<draws {
                add(
                    .fewShot(k: k, selection: .random), "\(k)-shot random #\(draw + 1)", random(k), tokens: tokens,
                    examples: k)
            }
            var mean: [Int: Double] = [:]
            for rung in rungs[first...] {
                for (id, score) in rung.outcomes.perCase { mean[id, default: 0] += score / Double(draws) }
            }
            series.append((k, mean))
            add(.fewShot(k: k, selection: .similar), "\(k)-shot similar", similar(k), tokens: tokens + 1, examples: 80)
        }
        add(.retrieval(passages: 3), "retrieval (3 passages)", retrieval, tokens: 440, examples: 0)
        // As the advisor does: the variants that lost were looked at too.
        let losers = variants.indices.filter { $0 != best }.map { first(variants[$0], cases) }
        let rule = DecisionRule(
            target: target, margin: margin, cost: CostModel(), baseline: baseline,
            looks: FollowUpPolicy.looks(firstCases: cases, devCases: pool, followUp: true))
        var decision = rule.decide(rungs, alsoTested: losers, seed: seed)!
        var look = 0
        // As the advisor does at its default request budget.
        var requestsLeft = FollowUpPolicy.defaultBudget(rungs: rungs, devCases: pool)
        while let round = FollowUpPolicy.nextRound(decision, rungs: rungs, devCases: pool, requestsLeft: requestsLeft) {
            for index in round.rungs {
                requestsLeft -= max(0, round.cases - rungs[index].cases)
                rungs[index] = rungs[index].rescored(first(all[index], round.cases), runs: [])
            }
            look += 1
            decision = rule.decide(rungs, alsoTested: losers, look: look, seed: seed)!
        }
        let projection = Projection.project(series, target: target, trainSize: 80, resamples: 0, seed: seed)
        return Outcome(decision: decision, rungs: rungs, truth: truth, projection: projection)
    }

    struct Rates {
        var meets = 0.0
        var named = 0.0
        var atBaseline = 0.0
        var nearBest = 0.0
        var cheapest = 0.0
        var short = 0.0
        var falseNear = 0.0
    }

    /// Shares of seeds: verdict "meets", the chosen rung matching `named`, verdict "at baseline",
    /// the chosen rung truly within the margin of the best, the cheapest chosen, verdict "short".
    /// The seeds run on a thread of their own (`onOwnThread`).
    func rates(seeds: Int, named: @escaping @Sendable (Rung) -> Bool = { _ in false }) async -> Rates {
        await onOwnThread {
            var counts = Rates()
            for seed in 0..<seeds {
                let outcome = run(seed: UInt64(seed))
                if outcome.decision.verdict == .meets { counts.meets += 1 }
                if outcome.decision.verdict == .atBaseline { counts.atBaseline += 1 }
                if outcome.decision.verdict == .short { counts.short += 1 }
                if named(outcome.chosen) { counts.named += 1 }
                if outcome.chosenNearBest(margin: margin) { counts.nearBest += 1 }
                if outcome.chosenCheapest { counts.cheapest += 1 }
                if outcome.falseNearClaim(margin: margin) { counts.falseNear += 1 }
            }
            let n = Double(seeds)
            return Rates(
                meets: counts.meets / n, named: counts.named / n, atBaseline: counts.atBaseline / n,
                nearBest: counts.nearBest / n, cheapest: counts.cheapest / n, short: counts.short / n,
                falseNear: counts.falseNear / n)
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
