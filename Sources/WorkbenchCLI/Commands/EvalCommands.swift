import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb eval`, `pwb compare`, `pwb runs list|show`.
@MainActor
enum EvalCommands {
    static var all: [Command] { [eval, compare, runsList, runsShow] }

    /// Also `advise`'s.
    nonisolated static let oneToken = OptionKey<Bool>.flag("one-token", "the same as --reader one-token")
    /// `eval`'s and `runs show`'s.
    nonisolated static let csv = OptionKey<Bool>.flag("csv", "print every case as CSV")

    /// `eval`'s options (`EvalOptions` is what they make).
    struct EvalCommandOptions: CommandOptions {
        let variants = OptionKey<[String]>.list(
            "variants", "A,B|all", completion: .variantsOrAll,
            "the variants to score (default all); name@N for an older revision")
        let evalset = Options.evalset
        let split = OptionKey<Split>.choice("split", placeholder: "SPLIT", "train, dev (default) or test")
        let models = OptionKey<[String]>.list(
            "model", "NAME[,NAME…]", repeatable: true, "models from .pwb/config.json (default: the default one)")
        let concurrency = OptionKey<Int>.number(
            "concurrency", "N", in: Options.concurrencyRange, "requests at once (default: the server's slots, else 4)")
        let repeats = OptionKey<Int>.number("repeat", "N", in: 1...1000, "samples per case (default 1)")
        let noCache = OptionKey<Bool>.flag("no-cache", "ask the model again instead of using stored answers")
        let limit = OptionKey<Int>.number(
            "limit", "N", in: Options.caseCountRange, "only the first N cases of the split")
        let seed = OptionKey<Int>.number(
            "seed", "S", in: Options.seedRange, "seed for choosing examples and for sampling (default 0)")
        let shots = OptionKey<Int>.number(
            "shots", "K", in: 0...10_000,
            "fill {{examples}} with K train cases (written in the template's example_format)")
        let select = OptionKey<Strategy.Selection>.choice(
            "select", "how examples are chosen: the same random ones for every case, or the most similar by BM25")
        let rag = OptionKey<String>.text(
            "rag", "CORPUS", completion: .corpora, "fill {{context}} with passages retrieved from CORPUS for each case")
        let adapter = OptionKey<String>.text(
            "adapter", "NAME", completion: .adapters,
            "apply a LoRA adapter from pwb finetune (the local runtime serves it)")
        let passages = OptionKey<Int>.number(
            "passages", "N", in: 1...100, "passages per case with --rag (default 3)")
        let reader = OptionKey<Reader>.choice(
            "reader", placeholder: "READER",
            "how answers are read: generate (the default: the scorers read the text), one-token (label tasks: the label from the answering token's log-probabilities) or choice (label tasks: generation constrained to the labels)"
        )
        let oneToken = EvalCommands.oneToken
        let failUnder = OptionKey<Double>.decimal(
            "fail-under", "X", in: 0...1, "exit 1 when the best score is below X")
        let baseline = OptionKey<Int>.number(
            "baseline", "RUN", in: Options.runIDRange, completion: .runs,
            "exit 1 when the best run is significantly worse than RUN")
        let resume = OptionKey<Int>.number(
            "resume", "RUN", in: Options.runIDRange, completion: .runs,
            "finish an interrupted evaluation (any run of it) without redoing finished cases")
        let retryErrors = OptionKey<Bool>.flag(
            "retry-errors", "with --resume, also try again the cases that ended in an error")
        let json = OptionKey<Bool>.flag("json", "print the report and every case as JSON")
        let csv = EvalCommands.csv
    }

    static let eval = Command(
        "eval", "score a template's variants on an eval set, with intervals and paired tests",
        replSummary: "score the current variant (all: every variant); options as pwb eval", arguments: "TEMPLATE",
        replArguments: "[all] [TEMPLATE]", max: 2,
        options: EvalCommandOptions.self,
        details: """
            Every result is stored as it arrives. Ctrl-C once finishes the requests in flight and stops; twice
            abandons them; either way pwb eval --resume RUN completes the run later. Answers are cached: the
            same request (provider, model, prompt, sampling parameters, sample index) is not sent twice
            unless --no-cache is given. In the REPL, eval scores the current variant, eval all every variant
            of the current template.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        let stop = StopRequest()
        let bar = ProgressBar(output: invocation.output, label: "eval")
        let progress: (EvalProgress) -> Void = { bar.update($0) }
        let notes: (Message) -> Void = invocation.note
        let report: EvalReport
        do {
            if let resume = invocation.resume {
                report = try await Interrupts.run(output: invocation.output, stop: stop) {
                    try await workspace.resume(
                        runID: resume, retryErrors: invocation.retryErrors,
                        concurrency: invocation.concurrency, environment: session.environment,
                        stop: stop, notes: notes, progress: progress)
                }
            } else {
                let options = try evalOptions(invocation)
                report = try await Interrupts.run(output: invocation.output, stop: stop) {
                    try await workspace.evaluate(
                        options, environment: session.environment, stop: stop, notes: notes, progress: progress)
                }
            }
        } catch let interrupted as EvalInterrupted {
            bar.finish()
            // What finished is printed the way it was asked for, then the interruption is reported.
            try printReport(interrupted.report, invocation: invocation, workspace: workspace)
            throw interrupted.ending(saying: CLI.worded(interrupted.message))
        }
        bar.finish()
        try printReport(report, invocation: invocation, workspace: workspace)
        try requireAnswered(report, invocation: invocation, workspace: workspace)
        try checks(report, invocation: invocation, workspace: workspace)
    }

    /// A run whose requests failed is incomplete: its score covers only the answered cases, so it
    /// passes no check and the command fails (after the report is printed) with the first failure:
    /// exit 2 when the server refuses the configuration, 4 when a case's prompt does not fit, else 3.
    static func requireAnswered(_ report: EvalReport, invocation: Invocation<EvalCommandOptions>, workspace: Workspace)
        throws
    {
        guard var unanswered = try workspace.unansweredRequests(in: report) else { return }
        unanswered.checks = invocation.given([\.failUnder, \.baseline]).map { "--" + $0.name }
        throw unanswered
    }

    /// What `eval` scores, from its arguments. In the REPL, without a template it scores the
    /// current variant (`all`: every variant of the current template) unless `--variants` says otherwise.
    static func evalOptions(_ invocation: Invocation<EvalCommandOptions>) throws -> EvalOptions {
        let session = invocation.session
        var positionals = invocation.positionals
        // nil: every variant.
        var chosen = invocation.variants.flatMap { $0 == ["all"] ? nil : $0 }
        // In the REPL: `eval all [TEMPLATE]` scores every variant; `eval` the current variant.
        let all = invocation.inREPL && positionals.first == "all"
        if all {
            positionals.removeFirst()
            guard !invocation.has(\.variants) else {
                throw UsageError("eval all scores every variant; leave out --variants, or name them without all")
            }
        }
        if let extra = positionals.dropFirst().first {
            throw UsageError(
                "eval: unexpected argument \"\(extra)\"; usage: \(invocation.command.usage(inREPL: invocation.inREPL))")
        }
        var template = positionals.first
        if invocation.inREPL, template == nil, let current = session.currentTemplate {
            template = current
            if !all && !invocation.has(\.variants), let variant = session.currentVariant { chosen = [variant] }
        }
        guard let template else {
            let hint =
                invocation.inREPL ? "choose one with use TEMPLATE, or name it" : "usage: pwb eval TEMPLATE [options]"
            throw UsageError("eval needs a TEMPLATE (or --resume RUN); \(hint)")
        }
        var options = EvalOptions(template: template)
        options.variants = chosen
        options.evalset = invocation.evalset
        if let split = invocation.split { options.split = split }
        let models = invocation.all(\.models).flatMap { $0 }
        if !models.isEmpty { options.models = models.map(ModelChoice.init) }
        options.concurrency = invocation.concurrency
        options.repeats = invocation.repeats ?? 1
        options.useCache = !invocation.noCache
        options.limit = invocation.limit
        options.seed = invocation.seed ?? 0
        var strategy = Strategy()
        strategy.shots = invocation.shots ?? 0
        if let selection = invocation.select { strategy.selection = selection }
        strategy.corpus = invocation.rag
        strategy.passages = invocation.passages ?? 3
        if invocation.has(\.passages) && strategy.corpus == nil {
            throw UsageError("--passages needs --rag CORPUS")
        }
        options.strategy = strategy
        options.adapter = invocation.adapter
        options.reader = try readerOption(invocation.reader, oneToken: invocation.oneToken)
        return options
    }

    /// `--reader`, or `--one-token` for short; the two must not disagree.
    static func readerOption(_ chosen: Reader?, oneToken: Bool) throws -> Reader {
        if oneToken {
            guard chosen == nil || chosen == .oneToken else {
                throw UsageError("--one-token is --reader one-token; it cannot go with --reader \(chosen!.rawValue)")
            }
            return .oneToken
        }
        return chosen ?? .generate
    }

    /// Every case of every run of the report, as exported, each marked with its run.
    static func annotatedRows(_ report: EvalReport, _ workspace: Workspace) throws -> [JSONValue] {
        try report.runs.flatMap { run in try workspace.caseRows(run.run).map { annotate($0, run) } }
    }

    static func printReport(_ report: EvalReport, invocation: Invocation<EvalCommandOptions>, workspace: Workspace)
        throws
    {
        if invocation.json {
            var json = report.json.objectValue ?? [:]
            json["cases"] = .array(try annotatedRows(report, workspace))
            invocation.output.line(JSONValue.object(json).serialized(pretty: true))
        } else if invocation.csv {
            invocation.output.raw(ReportRendering.csv(try annotatedRows(report, workspace)))
        } else {
            invocation.output.lines(ReportRendering.lines(report))
        }
    }

    static func annotate(_ row: JSONValue, _ run: RunReport) -> JSONValue {
        var object = row.objectValue ?? [:]
        object["variant"] = .string(run.variant)
        object["model"] = .string(run.modelName)
        object["strategy"] = .string(run.strategy.label)
        return .object(object)
    }

    /// `--fail-under` and `--baseline`: exit 1 when the check fails (after the report is printed).
    static func checks(_ report: EvalReport, invocation: Invocation<EvalCommandOptions>, workspace: Workspace) throws {
        guard let best = report.best, let headline = report.runs[best].headline else { return }
        if let threshold = invocation.failUnder, headline.interval.estimate < threshold {
            throw CheckFailed(
                "the best score, \(ReportRendering.number(headline.interval.estimate)) (\(report.runs[best].variant)), is below --fail-under \(threshold)"
            )
        }
        if let baselineID = invocation.baseline {
            let comparison = try workspace.compare(report.runs[best], withRun: baselineID)
            guard comparison.pairs > 0 else {
                throw UsageError(
                    "run \(baselineID) shares no cases with this evaluation; choose a baseline on the same eval set")
            }
            let verdict =
                "best run \(report.runs[best].run.id) vs baseline \(baselineID): \(comparison.difference >= 0 ? "+" : "")\(ReportRendering.number(comparison.difference)) on \(comparison.pairs) cases, \(comparison.method.rawValue) \(ReportRendering.pValue(comparison.p))"
            if comparison.difference < 0 && comparison.isSignificant {
                throw CheckFailed("a significant regression: \(verdict)")
            }
        }
    }

    struct CompareOptions: CommandOptions {
        let midP = OptionKey<Bool>.flag(
            "mid-p", "the mid-p McNemar test for pass/fail runs: less conservative than the exact test, not exact")
        let json = Options.json
    }

    static let compare = Command(
        "compare", "compare two stored runs on the cases they share (paired test)",
        replSummary: "compare two runs; without arguments, the current variant's two newest runs", arguments: "RUN RUN",
        replArguments: "[RUN RUN]", max: 2, completing: .runs,
        options: CompareOptions.self,
        details: "In the REPL, compare alone compares the current variant's two newest completed runs."
    ) { invocation in
        var ids = try invocation.arguments.runIDs()
        if ids.isEmpty && invocation.inREPL {
            let (template, variant) = try REPLCommands.current(invocation.session)
            let runs = try invocation.session.workspace().completedRuns(
                of: RevisionReference(template: template, variant: variant))
            guard runs.count >= 2 else {
                throw UsageError(
                    "\(template)/\(variant) has \(runs.count) completed run(s); eval it (again) to have two to compare")
            }
            ids = [runs[1], runs[0]]
        }
        guard ids.count == 2 else {
            let usage = invocation.command.usage(inREPL: invocation.inREPL)
            throw UsageError("compare needs \(invocation.inREPL ? "[RUN RUN]" : "RUN RUN"); usage: \(usage)")
        }
        let workspace = try invocation.session.workspace()
        let report = try workspace.report(for: try ids.map { try workspace.run(id: $0) }, midP: invocation.midP)
        guard let comparison = report.comparisons.first?.comparison else { return }
        if report.runs[0].run.evalsetID != report.runs[1].run.evalsetID {
            invocation.output.warning("the two runs used different eval sets; only shared cases are compared")
        }
        if report.runs[0].reader != report.runs[1].reader {
            invocation.output.warning(
                "run \(ids[0]) was read by \(report.runs[0].reader.rawValue) and run \(ids[1]) by \(report.runs[1].reader.rawValue): the comparison is of two systems that read their answers differently, not only of their prompts"
            )
        }
        if invocation.json {
            invocation.output.line(report.json.serialized(pretty: true))
            return
        }
        var lines = ReportRendering.lines(
            report, title: "run \(ids[0]) vs run \(ids[1]) on \(report.evalset) (\(report.split))")
        if comparison.pairs == 0 { lines.append("The runs share no cases; there is nothing to pair.") }
        invocation.output.lines(lines)
    }

    struct RunsListOptions: CommandOptions {
        let template = OptionKey<String>.text(
            "template", "NAME", completion: .templates, "only runs of this template")
        let limit = OptionKey<Int>.number(
            "limit", "N", in: 1...1_000_000, "at most N runs (default 30)")
        let json = Options.json
    }

    static let runsList = Command(
        "runs list", "list stored runs, newest first",
        options: RunsListOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let template = try invocation.template.map { try workspace.library.template(named: $0) }
        let listings = try workspace.runListings(limit: invocation.limit ?? 30, template: template)
        if invocation.json {
            let items: [JSONValue] = listings.map { listing in
                [
                    "run": .number(Double(listing.run.id)), "batch": .string(listing.run.batch),
                    "revision": .string("\(listing.template)/\(listing.variant)@\(listing.revision)"),
                    "evalset": .string(listing.evalset), "split": .string(listing.run.split.rawValue),
                    "model": .string(listing.run.model), "strategy": listing.run.strategy.json,
                    "reader": .string(listing.run.params.reader.rawValue),
                    "status": .string(listing.run.status.rawValue), "done": .number(Double(listing.done)),
                    "planned": .number(Double(listing.run.plan.count * listing.run.samples)),
                    "errors": .number(Double(listing.errors)), "summary": listing.run.summary ?? .null,
                    "created_at": .string(listing.run.createdAt),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        guard !listings.isEmpty else {
            invocation.output.note("No runs yet. pwb eval TEMPLATE makes some.")
            return
        }
        var table = Table([
            .init("RUN", right: true), .init("BATCH"), .init("REVISION"), .init("EVALSET"), .init("STRATEGY"),
            .init("STATUS"), .init("DONE", right: true), .init("SCORE", right: true), .init("CREATED"),
        ])
        for listing in listings {
            let score = listing.run.headlineScore
            table.add([
                String(listing.run.id), listing.run.batch, "\(listing.template)/\(listing.variant)@\(listing.revision)",
                "\(listing.evalset)/\(listing.run.split.rawValue)", listing.run.strategy.label,
                listing.run.status.rawValue, "\(listing.done)/\(listing.run.plan.count * listing.run.samples)",
                score.map { ReportRendering.number($0) } ?? "–", TemplateCommands.shortTime(listing.run.createdAt),
            ])
        }
        invocation.output.lines(table.render())
    }

    struct RunsShowOptions: CommandOptions {
        let cases = OptionKey<Bool>.flag("cases", "list every case: expected, output, score, error")
        let json = Options.json
        let csv = EvalCommands.csv
    }

    static let runsShow = Command(
        "runs show", "show a stored run: its summary, and with --cases every case",
        arguments: "RUN", min: 1, max: 1, completing: .runs,
        options: RunsShowOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let run = try workspace.run(id: try invocation.arguments.runIDs()[0])
        let report = try workspace.report(for: [run])
        let rows = try workspace.caseRows(run).map { EvalCommands.annotate($0, report.runs[0]) }
        if invocation.json {
            var json = report.runs[0].json.objectValue ?? [:]
            json["cases"] = .array(rows)
            invocation.output.line(JSONValue.object(json).serialized(pretty: true))
            return
        }
        if invocation.csv {
            invocation.output.raw(ReportRendering.csv(rows))
            return
        }
        var lines = ReportRendering.lines(
            report,
            title:
                "run \(run.id): \(report.runs[0].reference) on \(report.evalset) (\(run.split.rawValue)) · \(run.status.rawValue)"
        )
        if invocation.cases {
            var table = Table([
                .init("CASE"), .init("EXPECTED", maxWidth: 30), .init("OUTPUT", maxWidth: 40),
                .init("SCORE", right: true),
                .init("ERROR", maxWidth: 50),
            ])
            for row in rows {
                table.add([
                    row["case"]?.text ?? "", row["expected"].map { $0.text } ?? "",
                    (row["output"]?.stringValue ?? "").trimmingWhitespace(),
                    row["score"]?.doubleValue.map { ReportRendering.number($0) } ?? "–",
                    row["error"]?.stringValue ?? "",
                ])
            }
            lines += [""] + table.render()
        }
        invocation.output.lines(lines)
    }
}

extension EvalInterrupted {
    /// The error a command that was scoring ends with: stopped by Ctrl-C or a signal (exit 130,
    /// or 128 + the signal), or the runtime gone (exit 3).
    func ending(saying message: String) -> any Error {
        switch reason {
        case .stopped: Interrupted(message: message)
        case .runtimeUnavailable: RuntimeStopped(message: message)
        }
    }
}

/// Ctrl-C stopped a command; what finished is kept (exit 130).
struct Interrupted: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension Interrupted: ExitCoded {
    var exitCode: Int32 { ExitCode.interrupted }
}

/// The runtime went away during an evaluation; what finished is kept (exit 3).
struct RuntimeStopped: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension RuntimeStopped: ExitCoded {
    var exitCode: Int32 { ExitCode.runtimeUnavailable }
}
