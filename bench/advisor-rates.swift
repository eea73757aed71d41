// The advisor's decision rule over the stub ladder of Tests/WorkbenchCoreTests/LadderSimulation.swift,
// many seeds per scenario: the table of error rates in the README. Built with WorkbenchCore as one
// optimized module by bench/advisor-rates.sh.
import Foundation

let seeds = Int(CommandLine.arguments.dropFirst().first ?? "2000")!
let curveP = { (k: Int) in 0.82 - 0.30 * pow(Double(k + 1), -0.8) }
let scenarios: [(String, Int, [Double], (Int) -> Double, (Int) -> Double, Double, (Rung) -> Bool, String)] = [
    (
        "S1 all 0.85, n=40", 40, [0.85, 0.85, 0.85], { _ in 0.85 }, { _ in 0.85 }, 0.85, { $0.kind == .zeroShot },
        "zero-shot"
    ),
    ("S2 all 0.80, n=40", 40, [0.8, 0.8, 0.8], { _ in 0.8 }, { _ in 0.8 }, 0.8, { $0.kind == .zeroShot }, "zero-shot"),
    ("E all 0.90, n=80", 80, [0.9, 0.9, 0.9], { _ in 0.9 }, { _ in 0.9 }, 0.9, { $0.kind == .zeroShot }, "zero-shot"),
    (
        "S3 4-shot similar 0.97, n=80", 80, [0.85, 0.85, 0.85], { _ in 0.85 }, { $0 == 4 ? 0.97 : 0.85 }, 0.85,
        { $0.kind == .fewShot(k: 4, selection: .similar) }, "4-shot similar"
    ),
    (
        "S3' 4-shot similar 0.97, n=160", 160, [0.85, 0.85, 0.85], { _ in 0.85 }, { $0 == 4 ? 0.97 : 0.85 }, 0.85,
        { $0.kind == .fewShot(k: 4, selection: .similar) }, "4-shot similar"
    ),
    (
        "S4 retrieval 0.825 vs zero 0.80", 40, [0.8, 0.5, 0.5], { _ in 0.5 }, { _ in 0.5 }, 0.825,
        { $0.kind == .retrieval(passages: 3) }, "retrieval"
    ),
    (
        "P curve to 0.82", 40, [curveP(0), curveP(0), curveP(0)], curveP, curveP, curveP(0), { $0.kind == .fineTuned },
        "fine-tuned"
    ),
]
print("| scenario | ρ | meets | undecided | short | named rung chosen |")
print("|---|---|---|---|---|---|")
for (name, n, z, r, s, rag, named, label) in scenarios {
    for rho in [0.0, 0.5] {
        let sim = LadderSimulation(cases: n, zeroShot: z, random: r, similar: s, retrieval: rag, rho: rho)
        var counts: [Decision.Verdict: Int] = [:]
        var hits = 0
        var proj = 0
        var reach = 0
        for seed in 0..<seeds {
            let o = sim.run(seed: UInt64(seed))
            counts[o.decision.verdict, default: 0] += 1
            if named(o.chosen) { hits += 1 }
            if o.projection.trusted { proj += 1 }
            if o.projection.examplesToReach != nil { reach += 1 }
        }
        func pct(_ x: Int) -> String { String(format: "%.1f%%", 100 * Double(x) / Double(seeds)) }
        print(
            "| \(name) | \(rho) | \(pct(counts[.meets] ?? 0)) | \(pct(counts[.undecided] ?? 0)) | \(pct(counts[.short] ?? 0)) | \(label): \(pct(hits)) | trusted curve \(pct(proj)), reach hint \(pct(reach))"
        )
    }
}
