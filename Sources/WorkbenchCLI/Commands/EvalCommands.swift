import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb eval`, `pwb compare`, `pwb runs list|show`.
@MainActor
enum EvalCommands {
    static var all: [Command] { [eval, compare, runsList, runsShow] }

    static let evalOptions: [Option] = [
        Option("variants", value: "A,B|all", "the variants to score (default all); name@N for an older revision"),
        Option("evalset", value: "NAME", "the eval set (default: the one the template names)"),
        Option("split", value: "SPLIT", "train, dev (default) or test"),
        Option(
            "model", value: "NAME[,NAME…]", repeatable: true, "models from .pwb/config.json (default: the default one)"),
        Option("concurrency", value: "N", "requests at once (default: the server's slots, else 4)"),
        Option("repeat", value: "N", "samples per case (default 1)"),
        Option("no-cache", "ask the model again instead of using stored answers"),
        Option("limit", value: "N", "only the first N cases of the split"),
        Option("seed", value: "S", "seed for choosing examples and for sampling (default 0)"),
        Option("shots", value: "K", "fill {{examples}} with K train cases (written in the template's example_format)"),
        Option(
            "select", value: "random|similar",
            "how examples are chosen: the same random ones for every case, or the most similar by BM25"),
        Option("rag", value: "CORPUS", "fill {{context}} with passages retrieved from CORPUS for each case"),
        Option("adapter", value: "NAME", "apply a LoRA adapter from pwb finetune (the local runtime serves it)"),
        Option("passages", value: "N", "passages per case with --rag (default 3)"),
        Option(
            "one-token",
            "label tasks: ask for one token and score the label from its log-probabilities (the labels' first tokens must differ)"
        ),
        Option("fail-under", value: "X", "exit 1 when the best score is below X"),
        Option("baseline", value: "RUN", "exit 1 when the best run is significantly worse than RUN"),
        Option(
            "resume", value: "RUN", "finish an interrupted evaluation (any run of it) without redoing finished cases"),
        Option("retry-errors", "with --resume, also try again the cases that ended in an error"),
        Option("json", "print the report and every case as JSON"),
        Option("csv", "print every case as CSV"),
    ]

    static let eval = Command(
        "eval", "score a template's variants on an eval set, with intervals and paired tests",
        arguments: "TEMPLATE", max: 1, options: evalOptions,
        details: """
            Every result is stored as it arrives. Ctrl-C once finishes the requests in flight and stops; twice
            abandons them; either way pwb eval --resume RUN completes the run later. Answers are cached: the
            same request (provider, model, prompt, sampling parameters, sample index) is not sent twice
            unless --no-cache is given.
            """
    ) { invocation in
        let session = invocation.session
        let workspace = try session.workspace()
        let arguments = invocation.arguments
        let stop = StopRequest()
        let bar = ProgressBar(output: invocation.output, label: "eval")
        let progress: (EvalProgress) -> Void = { bar.update($0) }
        let notes: (String) -> Void = { invocation.output.note($0) }
        let report: EvalReport
        do {
            if let resume = try arguments.int("resume", min: 1) {
                report = try await Interrupts.run(output: invocation.output, stop: stop) {
                    try await workspace.resume(
                        runID: resume, retryErrors: arguments.flag("retry-errors"),
                        concurrency: try arguments.int("concurrency", min: 1), environment: session.environment,
                        stop: stop, notes: notes, progress: progress)
                }
            } else {
                let options = try evalOptions(arguments, session: session)
                report = try await Interrupts.run(output: invocation.output, stop: stop) {
                    try await workspace.evaluate(
                        options, environment: session.environment, stop: stop, notes: notes, progress: progress)
                }
            }
        } catch let interrupted as EvalInterrupted {
            bar.finish()
            // What finished is printed the way it was asked for, then the interruption is reported.
            try printReport(interrupted.report, invocation: invocation, workspace: workspace)
            switch interrupted.reason {
            case .stopped: throw Interrupted(message: interrupted.description)
            case .runtimeUnavailable: throw RuntimeStopped(message: interrupted.description)
            }
        }
        bar.finish()
        try printReport(report, invocation: invocation, workspace: workspace)
        try requireAnswered(report, arguments: arguments, workspace: workspace)
        try checks(report, arguments: arguments, workspace: workspace)
    }

    /// A run whose requests failed is incomplete: its score covers only the answered cases, so it
    /// passes no check and the command fails (after the report is printed) with the first failure:
    /// exit 2 when the server refuses the configuration, 4 when a case's prompt does not fit, else 3.
    static func requireAnswered(_ report: EvalReport, arguments: ParsedArguments, workspace: Workspace) throws {
        guard var unanswered = try workspace.unansweredRequests(in: report) else { return }
        unanswered.checks = ["fail-under", "baseline"].filter { arguments.value($0) != nil }.map { "--" + $0 }
        throw unanswered
    }

    /// The options of `pwb eval` (and the REPL's `eval`) from its arguments.
    static func evalOptions(_ arguments: ParsedArguments, session: Session) throws -> EvalOptions {
        guard let template = arguments.positional(0) ?? session.currentTemplate else {
            throw UsageError("eval needs a TEMPLATE (or --resume RUN); usage: pwb eval TEMPLATE [options]")
        }
        var options = EvalOptions(template: template)
        if let variants = arguments.value("variants") {
            options.variants = variants == "all" ? nil : variants.split(separator: ",").map { $0.trimmingWhitespace() }
        }
        options.evalset = arguments.value("evalset")
        if let split = try EvalSetCommands.split(arguments) { options.split = split }
        let models = arguments.all("model").flatMap { $0.split(separator: ",").map { $0.trimmingWhitespace() } }
        if !models.isEmpty { options.models = models }
        options.concurrency = try arguments.int("concurrency", min: 1)
        options.repeats = try arguments.int("repeat", min: 1) ?? 1
        options.useCache = !arguments.flag("no-cache")
        options.limit = try arguments.int("limit", min: 1)
        options.seed = try arguments.int("seed") ?? 0
        var strategy = Strategy()
        strategy.shots = try arguments.int("shots", min: 0) ?? 0
        if let select = arguments.value("select") {
            guard let selection = Strategy.Selection(rawValue: select) else {
                throw UsageError("--select is \"\(select)\"; use random or similar")
            }
            strategy.selection = selection
        }
        strategy.corpus = arguments.value("rag")
        strategy.passages = try arguments.int("passages", min: 1) ?? 3
        if arguments.value("passages") != nil && strategy.corpus == nil {
            throw UsageError("--passages needs --rag CORPUS")
        }
        options.strategy = strategy
        options.adapter = arguments.value("adapter")
        options.oneToken = arguments.flag("one-token")
        if let failUnder = try arguments.double("fail-under"), !(0...1).contains(failUnder) {
            throw UsageError("--fail-under must be between 0 and 1, not \(failUnder)")
        }
        return options
    }

    static func printReport(_ report: EvalReport, invocation: Invocation, workspace: Workspace) throws {
        let arguments = invocation.arguments
        if arguments.flag("json") {
            var json = report.json.objectValue ?? [:]
            json["cases"] = .array(
                try report.runs.flatMap { run in try workspace.caseRows(run.run).map { annotate($0, run) } })
            invocation.output.line(JSONValue.object(json).serialized(pretty: true))
        } else if arguments.flag("csv") {
            let rows = try report.runs.flatMap { run in try workspace.caseRows(run.run).map { annotate($0, run) } }
            invocation.output.raw(ReportRendering.csv(rows))
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
    static func checks(_ report: EvalReport, arguments: ParsedArguments, workspace: Workspace) throws {
        guard let best = report.best, let headline = report.runs[best].headline else { return }
        if let threshold = try arguments.double("fail-under"), headline.interval.estimate < threshold {
            throw CheckFailed(
                "the best score, \(ReportRendering.number(headline.interval.estimate)) (\(report.runs[best].variant)), is below --fail-under \(threshold)"
            )
        }
        if let baselineID = try arguments.int("baseline", min: 1) {
            let baseline = try workspace.runReport(try workspace.run(id: baselineID))
            let comparison = Comparisons.paired(
                report.runs[best].perCase, baseline.perCase,
                passFail: report.runs[best].isPassFail && baseline.isPassFail)
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

    static let compare = Command(
        "compare", "compare two stored runs on the cases they share (paired test)",
        arguments: "RUN RUN", min: 2, max: 2,
        options: [
            Option(
                "mid-p",
                "the mid-p McNemar test for pass/fail runs: less conservative than the exact test, not exact"),
            .json,
        ]
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let ids = try invocation.arguments.runIDs()
        let report = try workspace.report(
            for: try ids.map { try workspace.run(id: $0) }, midP: invocation.arguments.flag("mid-p"))
        guard let comparison = report.comparisons.first?.comparison else { return }
        if report.runs[0].run.evalsetID != report.runs[1].run.evalsetID {
            invocation.output.warning("the two runs used different eval sets; only shared cases are compared")
        }
        if invocation.arguments.flag("json") {
            invocation.output.line(report.json.serialized(pretty: true))
            return
        }
        var lines = ReportRendering.lines(
            report, title: "run \(ids[0]) vs run \(ids[1]) on \(report.evalset) (\(report.split))")
        if comparison.pairs == 0 { lines.append("The runs share no cases; there is nothing to pair.") }
        invocation.output.lines(lines)
    }

    static let runsList = Command(
        "runs list", "list stored runs, newest first",
        options: [
            Option("template", value: "NAME", "only runs of this template"),
            Option("limit", value: "N", "at most N runs (default 30)"), .json,
        ]
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let templateID = try invocation.arguments.value("template").map { try workspace.template(named: $0).id }
        let listings = try workspace.store.runListings(
            limit: try invocation.arguments.int("limit", min: 1) ?? 30, templateID: templateID)
        if invocation.arguments.flag("json") {
            let items: [JSONValue] = listings.map { listing in
                [
                    "run": .number(Double(listing.run.id)), "batch": .string(listing.run.batch),
                    "revision": .string("\(listing.template)/\(listing.variant)@\(listing.revision)"),
                    "evalset": .string(listing.evalset), "split": .string(listing.run.split),
                    "model": .string(listing.run.model), "strategy": listing.run.strategy,
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
            let score = listing.run.summary?["scorers"]?.arrayValue?.first?["score"]?.doubleValue
            table.add([
                String(listing.run.id), listing.run.batch, "\(listing.template)/\(listing.variant)@\(listing.revision)",
                "\(listing.evalset)/\(listing.run.split)", Strategy(json: listing.run.strategy).label,
                listing.run.status.rawValue, "\(listing.done)/\(listing.run.plan.count * listing.run.samples)",
                score.map { ReportRendering.number($0) } ?? "–", TemplateCommands.shortTime(listing.run.createdAt),
            ])
        }
        invocation.output.lines(table.render())
    }

    static let runsShow = Command(
        "runs show", "show a stored run: its summary, and with --cases every case",
        arguments: "RUN", min: 1, max: 1,
        options: [
            Option("cases", "list every case: expected, output, score, error"), .json,
            Option("csv", "every case as CSV"),
        ]
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let run = try workspace.run(id: try invocation.arguments.runIDs()[0])
        let report = try workspace.report(for: [run])
        let rows = try workspace.caseRows(run).map { EvalCommands.annotate($0, report.runs[0]) }
        if invocation.arguments.flag("json") {
            var json = report.runs[0].json.objectValue ?? [:]
            json["cases"] = .array(rows)
            invocation.output.line(JSONValue.object(json).serialized(pretty: true))
            return
        }
        if invocation.arguments.flag("csv") {
            invocation.output.raw(ReportRendering.csv(rows))
            return
        }
        var lines = ReportRendering.lines(
            report,
            title:
                "run \(run.id): \(report.runs[0].reference) on \(report.evalset) (\(run.split)) · \(run.status.rawValue)"
        )
        if invocation.arguments.flag("cases") {
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

/// Ctrl-C stopped a command; what finished is kept (exit 130).
struct Interrupted: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The runtime went away during an evaluation; what finished is kept (exit 3).
struct RuntimeStopped: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
