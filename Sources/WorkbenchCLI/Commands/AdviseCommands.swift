import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb advise`, `pwb export-finetune`.
@MainActor
enum AdviseCommands {
    static var all: [Command] { [advise, exportFinetune] }

    /// The advice `--OPTION ID|latest` names.
    static func storedAdvice(_ text: String, option: String, in workspace: Workspace) throws -> Advice {
        if text == "latest" { return try workspace.advice(id: nil) }
        guard let id = Int(text) else { throw UsageError("--\(option) takes an advice id or latest, not \"\(text)\"") }
        return try workspace.advice(id: id)
    }

    /// `advise`'s options (`AdviceOptions` is what they make).
    struct AdviseCommandOptions: CommandOptions {
        let evalset = Options.evalset
        let target = OptionKey<Double>.decimal("target", "X", in: 0...1, "the score to reach (default 0.9)")
        let volume = OptionKey<Double>.decimal(
            "volume", "REQUESTS_PER_MONTH", in: 0...1e12, "expected requests a month, for costs over a year")
        let priceIn = OptionKey<Double>.decimal(
            "price-in", "USD_PER_1M", in: 0...1e6,
            "price per million prompt tokens (without prices: local compute time)")
        let priceOut = OptionKey<Double>.decimal(
            "price-out", "USD_PER_1M", in: 0...1e6, "price per million completion tokens")
        let fineTuneCost = OptionKey<Double>.decimal(
            "finetune-cost", "USD", in: 0...1e9, "what fine-tuning costs once (with --finetuned-model: its break-even)")
        let fineTunedModel = OptionKey<String>.text(
            "finetuned-model", "NAME",
            "a served fine-tuned model (from config.json) to measure as the ladder's last rung")
        let fineTune = OptionKey<Bool>.flag(
            "finetune",
            "train LoRA adapters on 1/4, 1/2 and all train cases here (pwb finetune) and measure each as a rung"
        )
        let fineTuneEpochs = OptionKey<Int>.number(
            "finetune-epochs", "E", in: 1...100,
            "the most epochs for those adapters (default: set from the data, the epoch kept chosen on a validation part)"
        )
        let fineTuneMinutes = OptionKey<Double>.decimal(
            "finetune-minutes", "M", in: 0...100_000,
            "the training time allowed; larger sizes that would not fit are left out (default 30)")
        let fineTuneMax = OptionKey<Int>.number(
            "finetune-max", "N", in: Options.caseCountRange, "train on at most N train cases (the largest adapter)")
        let model = Options.model
        let budget = OptionKey<Int>.number(
            "budget", "N_CASES", in: Options.caseCountRange,
            "dev cases scored per rung (default 40; more narrows the intervals)")
        let maxShots = OptionKey<Int>.number(
            "max-shots", "K", in: 1...10_000, "the largest number of examples tried (default 8)")
        let draws = OptionKey<Int>.number(
            "draws", "N", in: 1...100, "random draws of examples for each k (default 3)")
        let passages = OptionKey<Int>.number(
            "passages", "N", in: 1...100, "passages retrieved per case (default 3)")
        let seed = Options.seed
        let concurrency = OptionKey<Int>.number(
            "concurrency", "N", in: Options.concurrencyRange, "requests at once (default: the server's slots)")
        let reader = OptionKey<Reader>.choice(
            "reader", placeholder: "READER",
            "how every rung reads its answers: generate (the default, as a deployed prompt is read), one-token (label tasks: faster; the rungs that decide are scored generated too, and their generated scores decide) or choice (label tasks: generation constrained to the labels)"
        )
        let oneToken = EvalCommands.oneToken
        let margin = OptionKey<Double>.decimal(
            "margin", "X", in: 0...1,
            "how much worse than the best a cheaper rung may be and be chosen, if it shows it (default 0.02)")
        let value = OptionKey<Double>.decimal(
            "value", "USD", in: 0...1e9,
            "what a correct answer is worth: choose by expected value per request (needs prices)")
        let followUp = OptionKey<Int>.number(
            "follow-up", "N", in: 0...1_000_000,
            "while the decision is open, score the contenders on more dev cases with up to N more requests (default: as many as scoring every rung on every dev case would take, so only the decision settling or the dev cases running out ends it)"
        )
        let priceTrain = OptionKey<Double>.decimal(
            "price-train", "USD_PER_1M", in: 0...1e6,
            "with --finetune on a hosted model: price per million trained tokens")
        let priceTunedIn = OptionKey<Double>.decimal(
            "price-tuned-in", "USD_PER_1M", in: 0...1e6,
            "the tuned model's price per million prompt tokens (default: --price-in)")
        let priceTunedOut = OptionKey<Double>.decimal(
            "price-tuned-out", "USD_PER_1M", in: 0...1e6, "the tuned model's price per million completion tokens")
        let yes = OptionKey<Bool>.flag("yes", "start a paid fine-tuning job without asking")
        let show = OptionKey<String>.text("show", "ID", "print stored advice again (ID, or latest)")
        let export = OptionKey<String>.text(
            "export", "DIR",
            "with --show: write the recommended prompt, its examples written in, as DIR/TEMPLATE/VARIANT.prompt for pwb import"
        )
        let json = Options.json
    }

    static let advise = Command(
        "advise", "measure zero-shot, few-shot, retrieval and fine-tuning on your task and recommend one",
        arguments: "TEMPLATE", max: 1, completing: .templates,
        options: AdviseCommandOptions.self,
        details: """
            Every run the advisor makes is an ordinary stored run (cached and resumable: pwb runs list shows
            them), so asking again costs little. Ctrl-C stops it; what finished is kept.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        if let show = invocation.show {
            let advice = try storedAdvice(show, option: "show", in: workspace)
            if let directory = invocation.export {
                let path = try workspace.exportAdvice(advice, to: directory)
                invocation.output.note(
                    "wrote \(workspace.shown(path)); pwb import \(directory) adds it as a variant of \(advice.template)"
                )
                return
            }
            try AdviseCommands.show(advice, json: invocation.json, inREPL: invocation.inREPL, to: invocation.output)
            return
        }
        if invocation.has(\.export) { throw UsageError("--export writes stored advice; add --show ID") }
        guard let template = invocation.positionals.first ?? session.currentTemplate else {
            throw UsageError("advise needs a TEMPLATE; usage: \(invocation.command.usage(inREPL: invocation.inREPL))")
        }
        var options = AdviceOptions(template: template)
        options.evalset = invocation.evalset
        options.target = invocation.target ?? options.target
        options.volumePerMonth = invocation.volume
        let priceIn = invocation.priceIn
        let priceOut = invocation.priceOut
        if priceIn != nil || priceOut != nil {
            options.prices = Prices(inputPerMillion: priceIn ?? 0, outputPerMillion: priceOut ?? priceIn ?? 0)
        }
        options.fineTuneCostUSD = invocation.fineTuneCost
        options.margin = invocation.margin ?? options.margin
        options.value = invocation.value
        options.followUpRequests = invocation.followUp
        options.priceTrainPerMillion = invocation.priceTrain
        let tunedIn = invocation.priceTunedIn
        let tunedOut = invocation.priceTunedOut
        if tunedIn != nil || tunedOut != nil {
            options.tunedPrices = Prices(
                inputPerMillion: tunedIn ?? options.prices?.inputPerMillion ?? 0,
                outputPerMillion: tunedOut ?? options.prices?.outputPerMillion ?? 0)
        }
        options.confirmedSpending = invocation.yes
        options.fineTunedModel = invocation.fineTunedModel
        options.fineTune = invocation.fineTune
        options.fineTuneEpochs = invocation.fineTuneEpochs
        options.fineTuneMinutes = invocation.fineTuneMinutes ?? options.fineTuneMinutes
        options.fineTuneMaxExamples = invocation.fineTuneMax
        if !options.fineTune,
            let stray = invocation.given([\.fineTuneEpochs, \.fineTuneMinutes, \.fineTuneMax]).first
        {
            throw UsageError("--\(stray.name) sets how --finetune trains; add --finetune")
        }
        options.model = invocation.model
        options.budget = invocation.budget ?? options.budget
        options.maxShots = invocation.maxShots ?? options.maxShots
        options.draws = invocation.draws ?? options.draws
        options.passages = invocation.passages ?? options.passages
        options.seed = invocation.seed ?? 0
        options.reader = try EvalCommands.readerOption(invocation.reader, oneToken: invocation.oneToken)
        options.concurrency = invocation.concurrency
        let stop = StopRequest()
        let bar = ProgressBar(output: invocation.output, label: "advise")
        let advice: Advice
        do {
            advice = try await Interrupts.run(output: invocation.output, stop: stop) {
                try await workspace.advise(
                    options, environment: session.environment, stop: stop,
                    notes: invocation.note,
                    progress: { progress in
                        if let eval = progress.eval {
                            bar.update(eval, label: "advise · \(progress.rung)")
                        } else if let training = progress.training {
                            invocation.output.progress("advise · " + FineTuneCommands.progressLine(training))
                        } else if let hosted = progress.hosted {
                            invocation.output.progress("advise · " + FineTuneCommands.hostedLine(hosted))
                        }
                    })
            }
        } catch let interrupted as EvalInterrupted {
            bar.finish()
            let kept = "the runs made so far are kept (pwb runs list) and answer from the cache when you ask again"
            switch interrupted.reason {
            case .stopped: throw interrupted.ending(saying: "interrupted; " + kept)
            case .runtimeUnavailable(let error):
                throw interrupted.ending(saying: "\(CLI.worded(error.message)); " + kept)
            }
        }
        bar.finish()
        try show(advice, json: invocation.json, inREPL: invocation.inREPL, to: invocation.output)
    }

    static func show(_ advice: Advice, json: Bool, inREPL: Bool, to output: Output) throws {
        if json {
            output.line(try Workspace.encode(advice, pretty: true))
        } else {
            output.lines(AdviceRendering.lines(advice, wording: inREPL ? REPL.worded : CLI.worded))
        }
    }

    /// The formats `export-finetune` writes.
    enum FineTuningFormat: String, CaseIterable, Sendable {
        case openAIChat = "openai-chat"
        case promptCompletion = "prompt-completion"
        case text
    }

    struct ExportFinetuneOptions: CommandOptions {
        let format = OptionKey<FineTuningFormat>.choice(
            "format", "OpenAI chat JSONL, prompt/completion JSONL (TRL's SFT trainer), or plain text")
        let split = OptionKey<Split>.choice(
            "split", placeholder: "SPLIT", "the split to export (default train)")
        let template = OptionKey<String>.text(
            "template", "TEMPLATE/VARIANT", completion: .references,
            "the prompt the user turns are written with (default: the eval set's template)")
        let out = Options.out
        let allowEvalSplits = OptionKey<Bool>.flag(
            "allow-eval-splits", "allow exporting dev or test cases (you would then train on what you score on)")
    }

    static let exportFinetune = Command(
        "export-finetune", "write an eval set's train cases as fine-tuning data",
        arguments: "EVALSET", min: 1, max: 1, completing: .evalsets,
        options: ExportFinetuneOptions.self,
        details: """
            openai-chat: one {"messages": [system?, user, assistant]} per line; the user turn is the variant's
            prompt without examples, the assistant turn the expected answer. text: every case in the variant's
            example_format, a blank line between. prompt-completion: one {"prompt", "completion"} per line, the
            prompt exactly as pwb eval sends it zero-shot and the completion the expected answer (what pwb
            finetune trains on).
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let evalset = try workspace.library.evalset(named: invocation.positionals[0])
        let split = invocation.split ?? .train
        if split != .train && !invocation.allowEvalSplits {
            throw UsageError(
                "exporting the \(split.rawValue) split would train the model on cases it is scored on; export train, or pass --allow-eval-splits if you mean it"
            )
        }
        guard let format = invocation.format else {
            throw UsageError("export-finetune needs --format openai-chat, prompt-completion or text")
        }
        let revision = try workspace.fineTuningRevision(evalset: evalset, reference: invocation.template)
        let cases = try workspace.store.cases(evalsetID: evalset.record.id, split: split)
        guard !cases.isEmpty else { throw UsageError("eval set \(evalset.name) has no \(split.rawValue) cases") }
        let text: String
        switch format {
        case .openAIChat: text = try workspace.fineTuningChat(cases, revision: revision)
        case .promptCompletion: text = try workspace.fineTuningPromptCompletion(cases, revision: revision)
        case .text: text = try workspace.fineTuningText(cases, revision: revision)
        }
        if let out = invocation.out {
            try workspace.writeUserFile(text, to: out)
            invocation.output.note(
                "wrote \(cases.count) \(split.rawValue) cases of \(evalset.name) to \(out) (\(format.rawValue), prompts from \(revision.reference))"
            )
        } else {
            invocation.output.raw(text)
        }
    }
}
