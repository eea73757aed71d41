import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// A fine-tuned model a server already serves (`--finetuned-model NAME`, a configured model),
/// scored with the zero-shot prompt on the same dev cases; its compute is reckoned at its own
/// server's speeds.
struct ServedModelStep: LadderStep {
    var model: String

    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        guard let revision = context.bestRevision else {
            return .skipped(
                Advice.Skipped(title: FineTuningStep.title, reason: "there is no zero-shot variant to ask it"))
        }
        let evaluation = context.base.with {
            $0.variants = context.pinned
            $0.models = [ModelChoice(model)]
        }
        let run = try await context.runTogether("fine-tuned model", [("fine-tuned model", evaluation)])[0].runs[0]
        var rung = try context.rung(
            run, kind: .fineTuned, label: "fine-tuned (\(model))",
            shipping: Shipping(
                description: "model \(model) with the zero-shot prompt of \(revision.reference)",
                revision: revision.reference))
        if let own = try context.workspace.computeSpeeds([run.run.id]) { rung = rung.costed(at: own) }
        rung.oneOffUSD = context.options.fineTuneCostUSD
        rung.oneOffPaid = true
        rung.labeledExamples = context.train.count
        if let index = context.add(rung, options: evaluation) { context.ownSpeeds.insert(index) }
        return .fineTuning(Advice.FineTuned(model: model, run: AdviceContext.summary(run)))
    }
}
