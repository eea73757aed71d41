import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb finetune`, `pwb adapters`.
@MainActor
enum FineTuneCommands {
    static var all: [Command] { [finetune, adapters] }

    /// `finetune`'s options (`FineTuneOptions` and `HostedFineTuneOptions` are what they make).
    struct FinetuneCommandOptions: CommandOptions {
        let template = OptionKey<String>.text(
            "template", "TEMPLATE/VARIANT", completion: .references,
            "the prompt it learns to answer, as pwb eval sends it zero-shot (default: the eval set's template)")
        let name = OptionKey<String>.text(
            "name", "NAME",
            "the adapter's name: letters, digits, '.', '_' and '-', a letter or digit first (default: variant, cases and a hash of the settings)"
        )
        let examples = OptionKey<[Int]>.counts(
            "examples", "N[,N…]", in: Options.caseCountRange, of: "train cases",
            "train on the first N train cases (several sizes: one adapter each)")
        let rank = OptionKey<Int>.number(
            "rank", "R", in: 1...256, "LoRA rank (default 8; alpha is twice the rank)")
        let epochs = OptionKey<Int>.number(
            "epochs", "E", in: 1...100,
            "the most passes over the data (default: set from the data); the epoch kept is the one with the lowest loss on a validation part of the train split"
        )
        let validation = OptionKey<Double>.decimal(
            "validation", "SHARE", in: 0...0.5,
            "the share of the train cases held out to choose the epoch by (default 0.2; 0 trains every epoch and keeps the last)"
        )
        let learningRate = OptionKey<Double>.decimal(
            "learning-rate", "LR", in: 0...1, "AdamW learning rate (default 0.0002)")
        let seed = OptionKey<Int>.number(
            "seed", "S", in: Options.seedRange, "seed for initialising and shuffling (default 0)")
        let install = OptionKey<Bool>.flag(
            "install", "install the trainer first when it is missing (about 5.6 GB from PyPI)")
        let model = OptionKey<String>.text(
            "model", "NAME",
            "a configured OpenAI or Azure OpenAI model: run the provider's fine-tuning job on it instead of training here"
        )
        let priceTrain = OptionKey<Double>.decimal(
            "price-train", "USD_PER_1M", in: 0...1e6,
            "with --model: price per million trained tokens, for the plan and the record")
        let yes = OptionKey<Bool>.flag("yes", "with --model: start the paid job without asking")
        let cancel = OptionKey<Bool>.flag(
            "cancel", "with --model: cancel the job under way for this data instead of waiting for it")
    }

    static let finetune = Command(
        "finetune", "train a LoRA adapter for the local model on an eval set's train split",
        arguments: "EVALSET", min: 1, max: 1, completing: .evalsets,
        options: FinetuneCommandOptions.self,
        details: """
            Trains with PyTorch and PEFT (on a CUDA or Apple GPU when there is one, else the CPU) in a virtual environment under the pwb cache (make trainer
            installs it), converts the adapter to GGUF and stores it under .pwb/adapters. pwb eval --adapter NAME
            scores it on the same engine as every other run: the managed llama-server loads it beside the base
            model. An adapter trained on the same data with the same settings is reused, not trained again.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        if let model = invocation.model {
            try await hosted(model, invocation: invocation, workspace: workspace)
            return
        }
        if let stray = invocation.given([\.priceTrain, \.yes, \.cancel]).first {
            throw UsageError("--\(stray.name) is for a hosted job; add --model NAME")
        }
        var options = FineTuneOptions(evalset: invocation.positionals[0])
        options.template = invocation.template
        options.name = invocation.name
        if let sizes = invocation.examples { options.examples = sizes }
        options.rank = invocation.rank ?? options.rank
        options.epochs = invocation.epochs
        options.validationShare = invocation.validation ?? options.validationShare
        options.learningRate = invocation.learningRate ?? options.learningRate
        options.seed = invocation.seed ?? 0
        options.install = invocation.install
        let stop = StopRequest()
        let adapters = try await Interrupts.run(
            output: invocation.output, stop: stop, stopping: "pwb: stopping the training"
        ) {
            try await workspace.finetune(
                options, environment: session.environment, stop: stop, notes: invocation.note,
                progress: { invocation.output.progress(FineTuneCommands.progressLine($0)) })
        }
        invocation.output.clearProgress()
        invocation.output.lines(lines(adapters))
        if let first = adapters.first {
            let template = try workspace.fineTuningRevision(
                evalset: try workspace.library.evalset(named: options.evalset), reference: options.template)
            invocation.output.note(
                "score it: pwb eval \(template.template.name) --variants \(template.variant.name) --adapter \(first.name)"
            )
        }
    }

    /// `pwb finetune EVALSET --model NAME`: the plan first, then (confirmed) the provider's job,
    /// waited for with a progress line; Ctrl-C leaves the job running and says how to wait again.
    static func hosted(_ model: String, invocation: Invocation<FinetuneCommandOptions>, workspace: Workspace)
        async throws
    {
        if let local = invocation.given([\.name, \.rank, \.validation, \.learningRate, \.install]).first {
            throw UsageError(
                "--\(local.name) sets how pwb trains here; a hosted job (--model) takes --epochs and --examples")
        }
        var options = HostedFineTuneOptions(evalset: invocation.positionals[0], model: model)
        options.template = invocation.template
        options.epochs = invocation.epochs
        if let sizes = invocation.examples {
            guard sizes.count == 1 else { throw UsageError("--examples takes one size for a hosted job") }
            options.examples = sizes[0]
        }
        options.seed = invocation.seed
        options.priceTrainPerMillion = invocation.priceTrain
        if let seconds = invocation.session.environment["PWB_FINETUNE_POLL_SECONDS"].flatMap(Double.init), seconds > 0 {
            options.pollInterval = .milliseconds(Int(min(seconds, 3600) * 1000))
        }
        let environment = invocation.session.environment
        let plan = try workspace.hostedFineTunePlan(options, environment: environment)
        for line in plan.summary { invocation.output.note("plan: " + line) }
        if invocation.cancel {
            let job = try await workspace.cancelHostedFineTune(plan, environment: environment)
            invocation.output.note("fine-tuning job \(job.id) is \(job.status)")
            return
        }
        if try plan.spends && !invocation.yes && !confirm("Start the job, which the provider bills?", invocation) {
            throw UsageError("no job was started; add --yes to start it")
        }
        let stop = StopRequest()
        let result = try await Interrupts.run(output: invocation.output, stop: stop, stopping: "pwb: stopping the wait")
        {
            try await workspace.hostedFineTune(
                plan, environment: environment, stop: stop,
                progress: { invocation.output.progress(FineTuneCommands.hostedLine($0)) })
        }
        invocation.output.clearProgress()
        invocation.output.lines(lines([result.adapter]))
        if let deployment = result.deployment {
            invocation.output.note("deploy it before measuring it: \(CLI.worded(deployment))")
        } else if let tuned = result.tunedConfiguration {
            invocation.output.note(
                "tuned model \(result.tunedModel)\(result.reused ? " (from before; nothing was sent)" : ""); measure it: pwb advise TEMPLATE --model \(model) --finetune, or add it to .pwb/config.json as a model (\(tuned.provider.rawValue), model \(result.tunedModel)) and pass --finetuned-model"
            )
        }
    }

    /// Asks on the terminal; false when standard input is not one.
    static func confirm(_ question: String, _ invocation: Invocation<some CommandOptions>) throws -> Bool {
        guard isatty(STDIN_FILENO) != 0 else { return false }
        invocation.output.note(question + " [y/N]")
        let answer = readLine(strippingNewline: true)?.trimmingWhitespace().lowercased() ?? ""
        return answer == "y" || answer == "yes"
    }

    /// A hosted job's progress: its phase, status, trained tokens and latest event.
    static func hostedLine(_ progress: HostedFineTuneProgress) -> String {
        var text = "finetune · "
        switch progress.phase {
        case .uploading: text += "uploading the data"
        case .checkingFiles: text += "the provider checks the files"
        case .starting: text += "starting the job"
        case .training: text += "job \(progress.job ?? "?")"
        }
        if let status = progress.status { text += " · \(status)" }
        if let tokens = progress.trainedTokens { text += " · \(tokens) tokens trained" }
        if let event = progress.events.last { text += " · \(event.message)" }
        return text + " · \(ProgressBar.clock(progress.elapsed))"
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
        "adapters", "list the LoRA adapters pwb finetune trained", options: JSONOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let adapters = try workspace.store.adapters()
        if invocation.json {
            let items: [JSONValue] = adapters.map { adapter in
                [
                    "name": .string(adapter.name), "path": .string(workspace.runtime.adapterPath(adapter)),
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
