import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// A provider's fine-tuning job (OpenAI, Azure OpenAI) for the configured model the ladder is
/// climbed with: trained on the same train split the local trainer uses, as chat examples, then
/// the tuned model scored on the same dev cases, with the same reader and scorers, costed by its
/// own prices and the job's trained tokens. Nothing is spent unless asked (`--yes`).
struct HostedFineTuningStep: LadderStep {
    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        guard let revision = context.bestRevision, let model = context.options.model else {
            return .skipped(
                Advice.Skipped(title: FineTuningStep.title, reason: "there is no configured model to fine-tune"))
        }
        let workspace = context.workspace
        var request = HostedFineTuneOptions(evalset: context.evalset.name, model: model)
        request.template = revision.reference
        request.epochs = context.options.fineTuneEpochs
        request.priceTrainPerMillion = context.options.priceTrainPerMillion
        if let seconds = context.environment["PWB_FINETUNE_POLL_SECONDS"].flatMap(Double.init), seconds > 0 {
            request.pollInterval = .milliseconds(Int(min(seconds, 3600) * 1000))
        }
        let plan = try workspace.hostedFineTunePlan(request, environment: context.environment)
        for line in plan.summary { context.notes(Message("fine-tuning: " + line)) }
        if plan.spends && !context.options.confirmedSpending {
            throw Refusal(
                "a fine-tuning job at \(plan.endpoint) would be started and billed (the plan is above); add \(setting: "yes") to start it, or leave out \(setting: "finetune")"
            )
        }
        let result = try await workspace.hostedFineTune(
            plan, environment: context.environment, stop: context.stop,
            progress: { progress in context.progress?(AdviceProgress(rung: "fine-tuning job", hosted: progress)) })
        guard let hosted = result.adapter.hosted else {
            return .skipped(Advice.Skipped(title: FineTuningStep.title, reason: "the job left no record"))
        }
        let job = Advice.HostedJob(
            id: hosted.jobID, provider: hosted.settings.provider, baseModel: hosted.settings.baseModel,
            trainedTokens: hosted.trainedTokens, epochs: hosted.settings.epochs, wallSeconds: hosted.wallSeconds,
            costUSD: hosted.costUSD, reused: result.reused)
        guard let tuned = result.tunedConfiguration else {
            // Azure: deploying is a control-plane step with other credentials.
            let step: Message = result.deployment ?? "deploy it"
            return .skipped(
                Advice.Skipped(
                    title: FineTuningStep.title,
                    reason:
                        "job \(hosted.jobID) tuned \(result.tunedModel), which must be deployed before it can be measured: \(step); then \(command: "advise --finetuned-model DEPLOYMENT") measures it"
                ))
        }
        workspace.runtime.servedTunedModels[tuned.name] = tuned
        let evaluation = context.base.with {
            $0.variants = context.pinned
            $0.models = [ModelChoice(tuned.name)]
        }
        let run = try await context.runTogether("fine-tuned model", [("fine-tuned model", evaluation)])[0].runs[0]
        var rung = try context.rung(
            run, kind: .fineTuned, label: "fine-tuned (\(result.tunedModel))",
            shipping: Shipping(
                description:
                    "model \(result.tunedModel) (job \(hosted.jobID) at \(hosted.settings.provider)) with the zero-shot prompt of \(revision.reference)",
                revision: revision.reference))
        if let own = try workspace.computeSpeeds([run.run.id]) { rung = rung.costed(at: own) }
        rung.prices = context.options.tunedPrices
        rung.oneOffUSD = hosted.costUSD ?? context.options.fineTuneCostUSD
        rung.oneOffSeconds = hosted.wallSeconds
        rung.oneOffPaid = true
        rung.labeledExamples = hosted.settings.examples + hosted.settings.validationExamples
        if let index = context.add(rung, options: evaluation) { context.ownSpeeds.insert(index) }
        var value = Advice.FineTuned(model: result.tunedModel, run: AdviceContext.summary(run))
        value.job = job
        return .fineTuning(value)
    }
}
