// The advisor's decision rule over the stub ladder of Tests/WorkbenchCoreTests/LadderSimulation.swift,
// many seeds per scenario: the table of error rates in the README. Built with WorkbenchCore as one
// optimized module by bench/advisor-rates.sh.
import Foundation

let seeds = Int(CommandLine.arguments.dropFirst().first ?? "2000")!
let only = CommandLine.arguments.dropFirst(2).first
let demoRandom: @Sendable (Int) -> Double = { [1: 0.90, 2: 0.92, 4: 0.94, 8: 0.958][$0] ?? 0.9 }
let demoSimilar: @Sendable (Int) -> Double = { [1: 0.90, 2: 0.91, 4: 0.93, 8: 0.95][$0] ?? 0.9 }
let curveP: @Sendable (Int) -> Double = { k in 0.82 - 0.30 * pow(Double(k + 1), -0.8) }

struct Scenario {
    var name: String
    var simulation: (Double) -> LadderSimulation
}

let scenarios: [Scenario] = [
    Scenario(name: "a. one rung 0.95, the rest 0.80, 40 cases") { rho in
        LadderSimulation(
            cases: 40, zeroShot: [0.80, 0.80], random: { _ in 0.80 }, similar: { $0 == 2 ? 0.95 : 0.80 },
            retrieval: 0.80, rho: rho)
    },
    Scenario(name: "a'. one rung 0.95, the rest 0.80, 40 cases (80 to follow up)") { rho in
        LadderSimulation(
            cases: 40, pool: 80, zeroShot: [0.80, 0.80], random: { _ in 0.80 }, similar: { $0 == 2 ? 0.95 : 0.80 },
            retrieval: 0.80, rho: rho)
    },
    Scenario(name: "b. every rung 0.85, 40 cases (80 to follow up)") { rho in
        LadderSimulation(
            cases: 40, pool: 80, zeroShot: [0.85, 0.85], random: { _ in 0.85 }, similar: { _ in 0.85 },
            retrieval: 0.85, rho: rho)
    },
    Scenario(name: "b'. every rung 0.85, 40 cases (400 to follow up), margin 0.10") { rho in
        LadderSimulation(
            cases: 40, pool: 400, zeroShot: [0.85, 0.85], random: { _ in 0.85 }, similar: { _ in 0.85 },
            retrieval: 0.85, rho: rho, margin: 0.10)
    },
    Scenario(name: "c. every rung 0.85, target 0.9, 40 cases (160)") { rho in
        LadderSimulation(
            cases: 40, pool: 160, zeroShot: [0.85, 0.85, 0.85], random: { _ in 0.85 }, similar: { _ in 0.85 },
            retrieval: 0.85, rho: rho)
    },
    Scenario(name: "d. every rung exactly 0.90, 80 cases (160)") { rho in
        LadderSimulation(
            cases: 80, pool: 160, zeroShot: [0.9, 0.9, 0.9], random: { _ in 0.9 }, similar: { _ in 0.9 },
            retrieval: 0.9, rho: rho)
    },
    Scenario(name: "e. the demo's shape (k-shot 0.90 … 0.958), 40 cases (80)") { rho in
        LadderSimulation(
            cases: 40, pool: 80, zeroShot: [0.35, 0.0, 0.0], random: demoRandom, similar: demoSimilar,
            retrieval: 0.35, rho: rho)
    },
    Scenario(name: "e'. the demo's shape, 40 cases, no follow-up") { rho in
        LadderSimulation(
            cases: 40, zeroShot: [0.35, 0.0, 0.0], random: demoRandom, similar: demoSimilar, retrieval: 0.35,
            rho: rho)
    },
    Scenario(name: "f. retrieval 0.90, every cheaper rung 0.87, 80 cases (160)") { rho in
        LadderSimulation(
            cases: 80, pool: 160, zeroShot: [0.87, 0.87], random: { _ in 0.87 }, similar: { _ in 0.87 },
            retrieval: 0.90, rho: rho)
    },
    Scenario(name: "g. 4-shot similar 0.97, the rest 0.85, 80 cases (160)") { rho in
        LadderSimulation(
            cases: 80, pool: 160, zeroShot: [0.85, 0.85, 0.85], random: { _ in 0.85 },
            similar: { $0 == 4 ? 0.97 : 0.85 }, retrieval: 0.85, rho: rho)
    },
    Scenario(name: "P. a few-shot curve levelling off at 0.82, 40 cases") { rho in
        LadderSimulation(
            cases: 40, zeroShot: [curveP(0), curveP(0), curveP(0)], random: curveP, similar: curveP,
            retrieval: curveP(0), rho: rho)
    },
]

print("| scenario | ρ | meets | short | within the margin of the best | cheapest | false \"within\" | mean cases per rung |")
print("|---|---|---|---|---|---|---|---|")
for scenario in scenarios where only.map({ scenario.name.hasPrefix($0) }) ?? true {
    for rho in [0.0, 0.5] {
        let simulation = scenario.simulation(rho)
        var counts = (meets: 0, short: 0, near: 0, cheapest: 0, falseNear: 0, cases: 0)
        for seed in 0..<seeds {
            let outcome = simulation.run(seed: UInt64(seed))
            if outcome.decision.verdict == .meets { counts.meets += 1 }
            if outcome.decision.verdict == .short { counts.short += 1 }
            if outcome.chosenNearBest(margin: simulation.margin) { counts.near += 1 }
            if outcome.chosenCheapest { counts.cheapest += 1 }
            if outcome.falseNearClaim(margin: simulation.margin) { counts.falseNear += 1 }
            counts.cases += outcome.rungs.map(\.cases).reduce(0, +) / outcome.rungs.count
        }
        func pct(_ x: Int) -> String { String(format: "%.1f%%", 100 * Double(x) / Double(seeds)) }
        print(
            "| \(scenario.name) | \(rho) | \(pct(counts.meets)) | \(pct(counts.short)) | \(pct(counts.near)) | \(pct(counts.cheapest)) | \(pct(counts.falseNear)) | \(counts.cases / seeds) |"
        )
        fflush(nil)
    }
}
