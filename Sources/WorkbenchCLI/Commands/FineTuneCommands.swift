import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb finetune`, `pwb adapters`.
@MainActor
enum FineTuneCommands {
    static var all: [Command] { [finetune, adapters] }

    static let template = OptionKey<String>.text(
        "template", "TEMPLATE/VARIANT", completion: .references,
        "the prompt it learns to answer, as pwb eval sends it zero-shot (default: the eval set's template)")
    static let name = OptionKey<String>.text(
        "name", "NAME",
        "the adapter's name: letters, digits, '.', '_' and '-', a letter or digit first (default: variant, cases and a hash of the settings)"
    )
    static let examples = OptionKey<[Int]>.counts(
        "examples", "N[,N…]", in: Options.caseCountRange, of: "train cases",
        "train on the first N train cases (several sizes: one adapter each)")
    static let rank = OptionKey<Int>.number(
        "rank", "R", in: 1...256, "LoRA rank (default 8; alpha is twice the rank)")
    static let epochs = OptionKey<Int>.number(
        "epochs", "E", in: 1...100,
        "the most passes over the data (default: set from the data); the epoch kept is the one with the lowest loss on a validation part of the train split"
    )
    static let validation = OptionKey<Double>.decimal(
        "validation", "SHARE", in: 0...0.5,
        "the share of the train cases held out to choose the epoch by (default 0.2; 0 trains every epoch and keeps the last)"
    )
    static let learningRate = OptionKey<Double>.decimal(
        "learning-rate", "LR", in: 0...1, "AdamW learning rate (default 0.0002)")
    static let seed = OptionKey<Int>.number(
        "seed", "S", in: Options.seedRange, "seed for initialising and shuffling (default 0)")
    static let install = OptionKey<Bool>.flag(
        "install", "install the trainer first when it is missing (about 5.6 GB from PyPI)")

    static let finetune = Command(
        "finetune", "train a LoRA adapter for the local model on an eval set's train split",
        arguments: "EVALSET", min: 1, max: 1, completing: .evalsets,
        options: [
            template.option, name.option, examples.option, rank.option, epochs.option, validation.option,
            learningRate.option,
            seed.option, install.option,
        ],
        details: """
            Trains with PyTorch and PEFT (on a CUDA or Apple GPU when there is one, else the CPU) in a virtual environment under the pwb cache (make trainer
            installs it), converts the adapter to GGUF and stores it under .pwb/adapters. pwb eval --adapter NAME
            scores it on the same engine as every other run: the managed llama-server loads it beside the base
            model. An adapter trained on the same data with the same settings is reused, not trained again.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        var options = FineTuneOptions(evalset: invocation.positionals[0])
        options.template = invocation[template]
        options.name = invocation[name]
        if let sizes = invocation[examples] { options.examples = sizes }
        options.rank = invocation[rank] ?? options.rank
        options.epochs = invocation[epochs]
        options.validationShare = invocation[validation] ?? options.validationShare
        options.learningRate = invocation[learningRate] ?? options.learningRate
        options.seed = invocation[seed] ?? 0
        options.install = invocation[install]
        let stop = StopRequest()
        let adapters = try await Interrupts.run(
            output: invocation.output, stop: stop, stopping: "pwb: stopping the training"
        ) {
            try await workspace.finetune(
                options, environment: session.environment, stop: stop, notes: { invocation.output.note($0) },
                progress: { invocation.output.progress(FineTuneCommands.progressLine($0)) })
        }
        invocation.output.clearProgress()
        invocation.output.lines(lines(adapters))
        if let first = adapters.first {
            let template = try workspace.fineTuningRevision(
                evalset: try workspace.evalset(named: options.evalset), reference: options.template)
            invocation.output.note(
                "score it: pwb eval \(template.template.name) --variants \(template.variant.name) --adapter \(first.name)"
            )
        }
    }

    static func progressLine(_ progress: FineTuneProgress) -> String {
        var text = "finetune"
        if progress.jobs > 1 { text += " \(progress.job)/\(progress.jobs)" }
        text += " · \(progress.phase)"
        if let device = progress.device { text += " on \(device)" }
        if progress.steps > 0 && progress.step > 0 { text += " · step \(progress.step)/\(progress.steps)" }
        if let loss = progress.loss { text += String(format: " · loss %.3f", loss) }
        text += " · \(ProgressBar.clock(progress.elapsed))"
        if let remaining = progress.remaining { text += " · ETA \(ProgressBar.clock(remaining))" }
        return text
    }

    /// A table of adapters: name, cases, settings, final loss, training time and speed.
    static func lines(_ adapters: [AdapterRecord]) -> [String] {
        var table = Table([
            .init("ADAPTER"), .init("CASES", right: true), .init("RANK", right: true), .init("EPOCH", right: true),
            .init("LOSS", right: true), .init("VALIDATION", right: true), .init("TRAINING", right: true),
            .init("EXAMPLES/S", right: true), .init("DEVICE"), .init("HASH"),
        ])
        for adapter in adapters {
            guard let training = adapter.local else {
                // A provider's job: its model, the tokens it trained and what it cost.
                let hosted = adapter.hosted!
                table.add([
                    adapter.name, String(hosted.settings.examples), "–", hosted.settings.epochs, "–", "–",
                    hosted.wallSeconds.map { ProgressBar.clock($0) } ?? hosted.status, "–",
                    hosted.settings.provider, hosted.fineTunedModel ?? hosted.jobID,
                ])
                continue
            }
            let kept = training.bestEpoch - 1
            func at(_ losses: [Double]) -> String {
                guard let first = losses.first else { return "–" }
                let chosen = losses.indices.contains(kept) ? losses[kept] : losses[losses.count - 1]
                return String(format: "%.3f → %.3f", first, chosen)
            }
            table.add([
                adapter.name, String(training.settings.examples), String(training.settings.rank),
                training.epochsRun > training.bestEpoch
                    ? "\(training.bestEpoch) of \(training.epochsRun)" : String(training.bestEpoch),
                at(training.epochLosses), at(training.validationLosses), ProgressBar.clock(training.trainingSeconds),
                String(format: "%.2f", training.examplesPerSecond), training.device ?? "–",
                String(adapter.hash.prefix(12)),
            ])
        }
        return table.render()
    }

    static let adapters = Command(
        "adapters", "list the LoRA adapters pwb finetune trained", options: [Options.json.option]
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let adapters = try workspace.adapters()
        if invocation[Options.json] {
            let items: [JSONValue] = adapters.map { adapter in
                [
                    "name": .string(adapter.name), "path": .string(workspace.adapterPath(adapter)),
                    "hash": .string(adapter.hash), "base_model": .string(adapter.baseModel),
                    "training": adapter.training.json, "created_at": .string(adapter.createdAt),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        guard !adapters.isEmpty else {
            invocation.output.note("No adapters yet. pwb finetune EVALSET trains one.")
            return
        }
        invocation.output.lines(lines(adapters))
    }
}
