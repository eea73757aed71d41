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

    static let advise = Command(
        "advise", "measure zero-shot, few-shot, retrieval and fine-tuning on your task and recommend one",
        arguments: "TEMPLATE", max: 1,
        options: [
            Option("evalset", value: "NAME", "the eval set (default: the one the template names)"),
            Option("target", value: "X", "the score to reach, 0 to 1 (default 0.9)"),
            Option("volume", value: "REQUESTS_PER_MONTH", "expected requests a month, for costs over a year"),
            Option(
                "price-in", value: "USD_PER_1M", "price per million prompt tokens (without prices: local compute time)"),
            Option("price-out", value: "USD_PER_1M", "price per million completion tokens"),
            Option(
                "finetune-cost", value: "USD", "what fine-tuning costs once (with --finetuned-model: its break-even)"),
            Option(
                "finetuned-model", value: "NAME",
                "a served fine-tuned model (from config.json) to measure as the ladder's last rung"),
            Option(
                "finetune",
                "train LoRA adapters on 1/4, 1/2 and all train cases here (pwb finetune) and measure each as a rung"),
            Option("finetune-epochs", value: "E", "epochs for those adapters (default 2)"),
            Option(
                "finetune-minutes", value: "M",
                "the training time allowed; larger sizes that would not fit are left out (default 30)"),
            Option("finetune-max", value: "N", "train on at most N train cases (the largest adapter)"),
            .model,
            Option("budget", value: "N_CASES", "dev cases scored per rung (default 40; more narrows the intervals)"),
            Option("max-shots", value: "K", "the largest number of examples tried (default 8)"),
            Option("draws", value: "N", "random draws of examples for each k (default 3)"),
            Option("passages", value: "N", "passages retrieved per case (default 3)"),
            Option("seed", value: "S", "seed for drawing examples (default 0)"),
            Option("concurrency", value: "N", "requests at once (default: the server's slots)"),
            Option(
                "one-token",
                "label tasks: every rung asks for one token and scores the label from its log-probabilities"),
            Option("show", value: "ID", "print stored advice again (ID, or latest)"),
            .json,
        ],
        details: """
            Every run the advisor makes is an ordinary stored run (cached and resumable: pwb runs list shows
            them), so asking again costs little. Ctrl-C stops it; what finished is kept.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        let arguments = invocation.arguments
        if let show = arguments.value("show") {
            try AdviseCommands.show(
                try storedAdvice(show, option: "show", in: workspace), json: arguments.flag("json"),
                to: invocation.output)
            return
        }
        guard let template = arguments.positional(0) ?? session.currentTemplate else {
            throw UsageError("advise needs a TEMPLATE; usage: pwb advise TEMPLATE [options]")
        }
        var options = AdviceOptions(template: template)
        options.evalset = arguments.value("evalset")
        if let target = try arguments.double("target") {
            guard (0...1).contains(target) else { throw UsageError("--target must be between 0 and 1, not \(target)") }
            options.target = target
        }
        options.volumePerMonth = try nonNegative(arguments, "volume")
        let priceIn = try nonNegative(arguments, "price-in")
        let priceOut = try nonNegative(arguments, "price-out")
        if priceIn != nil || priceOut != nil {
            options.prices = Prices(inputPerMillion: priceIn ?? 0, outputPerMillion: priceOut ?? priceIn ?? 0)
        }
        options.fineTuneCostUSD = try nonNegative(arguments, "finetune-cost")
        options.fineTunedModel = arguments.value("finetuned-model")
        options.fineTune = arguments.flag("finetune")
        options.fineTuneEpochs = try arguments.int("finetune-epochs", min: 1) ?? options.fineTuneEpochs
        options.fineTuneMinutes = try nonNegative(arguments, "finetune-minutes") ?? options.fineTuneMinutes
        options.fineTuneMaxExamples = try arguments.int("finetune-max", min: 1)
        if !options.fineTune,
            let stray = ["finetune-epochs", "finetune-minutes", "finetune-max"].first(where: {
                arguments.value($0) != nil
            })
        {
            throw UsageError("--\(stray) sets how --finetune trains; add --finetune")
        }
        options.model = arguments.value("model")
        options.budget = try arguments.int("budget", min: 1) ?? options.budget
        options.maxShots = try arguments.int("max-shots", min: 1) ?? options.maxShots
        options.draws = try arguments.int("draws", min: 1) ?? options.draws
        options.passages = try arguments.int("passages", min: 1) ?? options.passages
        options.seed = try arguments.int("seed") ?? 0
        options.oneToken = arguments.flag("one-token")
        options.concurrency = try arguments.int("concurrency", min: 1)
        let stop = StopRequest()
        let bar = ProgressBar(output: invocation.output, label: "advise")
        let advice: Advice
        do {
            advice = try await Interrupts.run(output: invocation.output, stop: stop) {
                try await workspace.advise(
                    options, environment: session.environment, stop: stop,
                    notes: { invocation.output.note($0) },
                    progress: { progress in
                        if let eval = progress.eval {
                            bar.update(eval, label: "advise · \(progress.rung)")
                        } else if let training = progress.training {
                            invocation.output.progress("advise · " + FineTuneCommands.progressLine(training))
                        }
                    })
            }
        } catch let interrupted as EvalInterrupted {
            bar.finish()
            switch interrupted.reason {
            case .stopped:
                throw Interrupted(
                    message:
                        "interrupted; the runs made so far are kept (pwb runs list) and answer from the cache when you ask again"
                )
            case .runtimeUnavailable(let error):
                throw RuntimeStopped(
                    message:
                        "\(error.description); the runs made so far are kept and answer from the cache when you ask again"
                )
            }
        }
        bar.finish()
        try show(advice, json: arguments.flag("json"), to: invocation.output)
    }

    static func show(_ advice: Advice, json: Bool, to output: Output) throws {
        if json {
            output.line(try Workspace.encode(advice, pretty: true))
        } else {
            output.lines(AdviceRendering.lines(advice))
        }
    }

    static func nonNegative(_ arguments: ParsedArguments, _ name: String) throws -> Double? {
        guard let value = try arguments.double(name) else { return nil }
        guard value >= 0 else { throw UsageError("--\(name) must be 0 or more, not \(value)") }
        return value
    }

    static let exportFinetune = Command(
        "export-finetune", "write an eval set's train cases as fine-tuning data",
        arguments: "EVALSET", min: 1, max: 1,
        options: [
            Option(
                "format", value: "openai-chat|prompt-completion|text",
                "OpenAI chat JSONL, prompt/completion JSONL (TRL's SFT trainer), or plain text"),
            Option("split", value: "SPLIT", "the split to export (default train)"),
            Option(
                "template", value: "TEMPLATE/VARIANT",
                "the prompt the user turns are written with (default: the eval set's template)"),
            Option("out", value: "FILE", "write to FILE instead of standard output"),
            Option(
                "allow-eval-splits", "allow exporting dev or test cases (you would then train on what you score on)"),
        ],
        details: """
            openai-chat: one {"messages": [system?, user, assistant]} per line; the user turn is the variant's
            prompt without examples, the assistant turn the expected answer. text: every case in the variant's
            example_format, a blank line between. prompt-completion: one {"prompt", "completion"} per line, the
            prompt exactly as pwb eval sends it zero-shot and the completion the expected answer (what pwb
            finetune trains on).
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let arguments = invocation.arguments
        let evalset = try workspace.evalset(named: arguments.positionals[0])
        let split = try EvalSetCommands.split(arguments) ?? .train
        if split != .train && !arguments.flag("allow-eval-splits") {
            throw UsageError(
                "exporting the \(split.rawValue) split would train the model on cases it is scored on; export train, or pass --allow-eval-splits if you mean it"
            )
        }
        guard let format = arguments.value("format") else {
            throw UsageError("export-finetune needs --format openai-chat, prompt-completion or text")
        }
        let revision = try workspace.fineTuningRevision(evalset: evalset, reference: arguments.value("template"))
        let cases = try workspace.store.cases(evalsetID: evalset.record.id, split: split)
        guard !cases.isEmpty else { throw UsageError("eval set \(evalset.name) has no \(split.rawValue) cases") }
        let text: String
        switch format {
        case "openai-chat": text = try workspace.fineTuningChat(cases, revision: revision)
        case "prompt-completion": text = try workspace.fineTuningPromptCompletion(cases, revision: revision)
        case "text": text = try workspace.fineTuningText(cases, revision: revision)
        default: throw UsageError("--format is \"\(format)\"; use openai-chat, prompt-completion or text")
        }
        if let out = arguments.value("out") {
            try workspace.writeUserFile(text, to: out)
            invocation.output.note(
                "wrote \(cases.count) \(split.rawValue) cases of \(evalset.name) to \(out) (\(format), prompts from \(revision.reference))"
            )
        } else {
            invocation.output.raw(text)
        }
    }
}
