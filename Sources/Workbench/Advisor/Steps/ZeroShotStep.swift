import Foundation
import WorkbenchCore
import WorkbenchStore

/// Every variant as it is; the best goes on up the ladder, and the others join the tests'
/// families (picking the best of them is a look too).
struct ZeroShotStep: LadderStep {
    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        let zero = try await context.run("zero-shot") { $0.variants = nil }
        guard let bestIndex = zero.best, zero.runs[bestIndex].headline != nil, !zero.runs[bestIndex].perCase.isEmpty
        else {
            throw Refusal(
                "zero-shot produced no scores (every request failed); see \(command: "runs show \(zero.runs.first?.run.id ?? 0)")"
            )
        }
        let best = zero.runs[bestIndex]
        let revision = try context.workspace.library.resolve(revisionID: best.run.revisionID)
        context.zeroShot = zero
        context.best = best
        context.bestRevision = revision
        context.pinned = ["\(best.variant)@\(revision.revision.number)"]
        context.ladderRuns += zero.runs.map(\.run.id)
        context.curveSeries = [(0, best.perCase)]
        context.baseline = best.headline?.baseline.map {
            Advice.Baseline(
                labels: $0.labelCount, chance: $0.chance, majorityLabel: $0.majorityLabel ?? "",
                majority: $0.majorityRate)
        }
        let shipping = Shipping(
            description: "\(revision.reference) as it is", promptFile: revision.file.canonicalText,
            revision: revision.reference)
        context.add(
            try context.rung(best, kind: .zeroShot, label: "zero-shot (\(best.variant))", shipping: shipping),
            options: context.base.with { $0.variants = context.pinned })
        return .zeroShot(
            Advice.ZeroShot(
                variants: zero.runs.map(AdviceContext.summary), best: best.variant,
                comparisons: zero.comparisons.map {
                    Advice.VariantComparison(variant: zero.runs[$0.other].variant, comparison: $0.comparison)
                }))
    }

    /// The variants that lost: looked at, not rungs.
    static func losers(_ context: AdviceContext) -> [Outcomes] {
        guard let zero = context.zeroShot, let best = context.best else { return [] }
        return zero.runs.filter { $0.run.id != best.run.id }.map { Outcomes($0.perCase, passFail: $0.isPassFail) }
    }
}
