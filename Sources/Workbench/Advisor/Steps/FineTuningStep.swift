import Foundation
import WorkbenchCore
import WorkbenchStore

/// LoRA adapters trained here (as `pwb finetune` trains them) on a quarter, half and all of the
/// train split, each served by the managed runtime beside the base model and scored with the
/// zero-shot prompt on the same dev cases: fine-tuning measured, never projected.
struct FineTuningStep: LadderStep {
    static let title = "Fine-tuning"

    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        guard let revision = context.bestRevision else {
            return .skipped(Advice.Skipped(title: Self.title, reason: "there is no zero-shot variant to fine-tune for"))
        }
        let workspace = context.workspace
        let options = context.options
        let (sizes, estimate): ([Int], Double)
        switch try workspace.fineTuningPlan(options, train: context.train.count) {
        case .skip(let reason): return .skipped(Advice.Skipped(title: Self.title, reason: reason))
        case .train(let planned, let seconds): (sizes, estimate) = (planned, seconds)
        }
        context.notes(
            "fine-tuning: adapters on \(sizes.map(String.init).joined(separator: ", ")) train cases, \(options.fineTuneEpochs.map { "at most \($0) epoch\($0 == 1 ? "" : "s")" } ?? "epochs chosen on a validation part") each, about \(Advice.duration(estimate)) of training (budget \(Advice.duration(options.fineTuneMinutes * 60)), \(setting: "finetune-minutes"))"
        )
        var request = FineTuneOptions(evalset: context.evalset.name)
        request.template = revision.reference
        request.examples = sizes
        request.epochs = options.fineTuneEpochs
        request.seed = options.seed
        let adapters = try await workspace.finetune(
            request, environment: context.environment, stop: context.stop, notes: context.notes,
            progress: context.progress.map { callback in
                { callback(AdviceProgress(rung: "fine-tuning", training: $0)) }
            })
        // One restart of the managed runtime loads them all, rather than one per adapter.
        _ = try await workspace.runtime.managedServer(environment: context.environment).ensureRunning(
            adapters: adapters.map(workspace.runtime.adapterPath))
        let prompting = context.rungs
        let bestPrompting = prompting.indices.max {
            (prompting[$0].interval.estimate, -prompting[$0].effort)
                < (prompting[$1].interval.estimate, -prompting[$1].effort)
        }
        var measured: [Advice.TunedAdapter] = []
        for adapter in adapters {
            guard let training = adapter.local else { continue }
            let cases = training.settings.examples
            let evaluation = context.base.with {
                $0.variants = context.pinned
                $0.adapter = adapter.name
            }
            let run = try await context.runTogether("fine-tuned on \(cases)", [("fine-tuned on \(cases)", evaluation)])[
                0
            ]
            .runs[0]
            var entry = Advice.TunedAdapter(
                name: adapter.name, trainCases: cases, epochs: training.bestEpoch, rank: training.settings.rank,
                trainingSeconds: training.trainingSeconds, examplesPerSecond: training.examplesPerSecond,
                run: AdviceContext.summary(run))
            var rung = try context.rung(
                run, kind: .fineTuned, label: "fine-tuned on \(cases)",
                shipping: Shipping(
                    description:
                        "the base model with LoRA adapter \(adapter.name) (\(workspace.shown(workspace.runtime.adapterPath(adapter))), trained \(training.bestEpoch) epoch\(training.bestEpoch == 1 ? "" : "s") on \(cases) train cases) and the zero-shot prompt of \(revision.reference)",
                    revision: revision.reference))
            rung.oneOffSeconds = training.trainingSeconds
            rung.oneOffUSD = options.fineTuneCostUSD
            rung.oneOffPaid = true
            rung.labeledExamples = cases
            if let index = bestPrompting, !run.perCase.isEmpty {
                entry.againstPrompting = Advice.VariantComparison(
                    variant: prompting[index].label,
                    comparison: Comparisons.paired(
                        rung.outcomes.perCase, prompting[index].outcomes.perCase,
                        passFail: rung.passFail && prompting[index].passFail, seed: context.seed))
            }
            measured.append(entry)
            context.add(rung, options: evaluation)
        }
        guard let largest = measured.max(by: { $0.trainCases < $1.trainCases }) else {
            return .skipped(Advice.Skipped(title: Self.title, reason: "no adapter got a score"))
        }
        var value = Advice.FineTuned(model: nil, run: largest.run)
        value.adapters = measured
        value.gainPerDoubling = Advice.FineTuned.gainPerDoubling(
            measured.map { ($0.trainCases, $0.run.interval.estimate) })
        value.estimatedSeconds = estimate
        value.budgetSeconds = options.fineTuneMinutes * 60
        return .fineTuning(value)
    }
}

/// Fine-tuning when it was not asked for: why it was not measured, and how to measure it.
struct FineTuningNotAsked: LadderStep {
    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        .skipped(
            Advice.Skipped(
                title: FineTuningStep.title,
                reason: context.train.isEmpty
                    ? "the eval set has no train split to fine-tune on"
                    : "not measured: \(command: "advise --finetune") trains adapters here (or runs the provider's job for \(setting: "model")), or serve a tuned model and pass \(setting: "finetuned-model") NAME"
            ))
    }
}

extension Workspace {
    enum FineTuningPlan {
        case train(sizes: [Int], estimatedSeconds: Double)
        case skip(Message)
    }

    /// The adapters the advisor trains — on a quarter, half and all of the train split (at most
    /// `fineTuneMaxExamples`), at least `FineTuneOptions.minimumExamples` each — and the training
    /// time they are estimated to take (`FineTuneOptions.estimatedSeconds`). Sizes that would not
    /// fit the budget are dropped, largest first.
    func fineTuningPlan(_ options: AdviceOptions, train: Int) throws -> FineTuningPlan {
        guard train > 0 else { return .skip("the eval set has no train split to fine-tune on") }
        let total = min(train, options.fineTuneMaxExamples ?? train)
        let sizes = Array(Set([total / 4, total / 2, total].filter { $0 >= FineTuneOptions.minimumExamples })).sorted()
        guard !sizes.isEmpty else {
            return .skip(
                "\(total) train cases are too few to fine-tune on (at least \(FineTuneOptions.minimumExamples))")
        }
        let measured = try store.adapters().compactMap(\.local?.examplesPerSecond).filter { $0 > 0 }
        func estimate(_ sizes: [Int]) -> Double {
            FineTuneOptions.estimatedSeconds(sizes, epochs: options.fineTuneEpochs, measuredSpeeds: measured)
        }
        var chosen = sizes
        while !chosen.isEmpty && estimate(chosen) > options.fineTuneMinutes * 60 { chosen.removeLast() }
        guard !chosen.isEmpty else {
            return .skip(
                "training on \(sizes[0]) cases would take about \(Advice.duration(estimate([sizes[0]]))), over the budget of \(Advice.duration(options.fineTuneMinutes * 60)) (\(setting: "finetune-minutes"))"
            )
        }
        return .train(sizes: chosen, estimatedSeconds: estimate(chosen))
    }
}
