import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension Workspace {
    /// Climbs the ladder on the dev split with the same engine as `pwb eval` — one step after
    /// another (`ladder`), each measuring its rungs — and decides with `DecisionRule`. While the
    /// decision is open, the contenders are scored on more dev cases, round by round, within a
    /// request budget stated up front. With `--reader one-token`, the rungs that decide are scored
    /// generated too, and their generated scores decide. The few-shot learning curve is shown as a
    /// scenario beside it, never as a rung. Every run it makes is an ordinary stored run; the
    /// advice is stored too.
    package func advise(
        _ options: AdviceOptions, environment: [String: String], stop: StopRequest? = nil,
        notes: @escaping (Message) -> Void = { _ in }, progress: ((AdviceProgress) -> Void)? = nil
    ) async throws -> Advice {
        let configured = try runtime.configuration(environment: environment).select(options.model)
        try options.check(configuredModel: configured)
        let started = ContinuousClock.now
        let context = try adviceContext(options, environment: environment, stop: stop, notes: notes, progress: progress)
        var steps: [AdviceStep] = []
        for step in ladder(options) { steps.append(try await step.climb(context)) }
        let followUpBudget =
            options.followUpRequests ?? FollowUpPolicy.defaultBudget(rungs: context.rungs, devCases: context.devCases)
        if followUpBudget > 0 && context.devCases > options.budget {
            notes(
                "pwb: while the decision is open, up to \(followUpBudget) more requests score the contenders on more of the \(context.devCases) dev cases (\(setting: "follow-up") N)"
            )
        }
        // Every prompting rung is costed at the same speeds (and so is an adapter, served by the
        // same server and model); a tuned model served elsewhere at its own.
        let speeds = try computeSpeeds(context.ladderRuns)
        if let speeds {
            context.update { rungs in
                for index in rungs.indices where !context.ownSpeeds.contains(index) {
                    rungs[index] = rungs[index].costed(at: speeds)
                }
            }
        }
        let rule = DecisionRule(
            target: options.target, margin: options.margin, cost: context.cost, value: options.value,
            baseline: context.baseline?.rate,
            looks: FollowUpPolicy.looks(
                firstCases: min(options.budget, context.devCases), devCases: context.devCases,
                followUp: followUpBudget > 0))
        let losers = ZeroShotStep.losers(context)
        var decision = rule.decide(context.rungs, alsoTested: losers, seed: context.seed)
        var followUp: Advice.FollowUp?
        if followUpBudget > 0, let first = decision, first.open || first.verdict == .atBaseline {
            (decision, followUp) = try await self.followUp(
                decision, rule: rule, context: context, losers: losers, budget: followUpBudget)
        }
        decision = decision.map { rule.withIntervals($0, rungs: context.rungs, seed: context.seed) }
        let readerCheck =
            options.reader == .oneToken
            ? try await checkReader(decision, rule: rule, context: context, speeds: speeds) : nil
        let tunedIndex = steps.firstIndex { if case .fineTuning = $0 { true } else { false } }
        if let tunedIndex, case .fineTuning(let value) = steps[tunedIndex] {
            steps[tunedIndex] = .fineTuning(againstPrompting(value, rule: rule, rungs: context.rungs))
        }
        guard let best = context.best else { throw Refusal("zero-shot produced no scores") }
        var advice = Advice(
            template: options.template, evalset: context.evalset.name, model: "\(best.modelName) (\(best.run.model))",
            devCases: context.devCases, casesPerRung: min(options.budget, context.devCases),
            trainCases: context.train.count, target: options.target, margin: options.margin, value: options.value,
            volumePerMonth: options.volumePerMonth, prices: options.prices, fineTuneCostUSD: options.fineTuneCostUSD,
            baseline: context.baseline, steps: steps,
            projection: context.curveSeries.count > 1
                ? Projection.project(
                    context.curveSeries, target: options.target, trainSize: context.train.count, seed: context.seed)
                : nil,
            rungs: context.rungs, decision: decision, rule: rule.statement,
            elapsedSeconds: started.duration(to: .now).inSeconds)
        advice.reader = options.reader
        advice.speeds = speeds
        advice.followUp = followUp
        advice.readerCheck = readerCheck
        if let (final, rungs) = advice.finalDecision, final.open {
            advice.casesNeeded = rule.casesNeeded(final, rungs: rungs)
        }
        let template = try library.template(named: options.template)
        advice.id = try store.insertAdvice(
            templateID: template.id, evalsetID: context.evalset.record.id, params: options.json,
            report: try Workspace.encode(advice))
        return advice
    }

    /// The steps of the ladder, in the order they are climbed.
    func ladder(_ options: AdviceOptions) -> [any LadderStep] {
        var steps: [any LadderStep] = [ZeroShotStep(), FewShotStep(), RetrievalStep()]
        if let model = options.fineTunedModel {
            steps.append(ServedModelStep(model: model))
        } else if options.fineTune {
            steps.append(options.model == nil ? FineTuningStep() : HostedFineTuningStep())
        } else {
            steps.append(FineTuningNotAsked())
        }
        return steps
    }

    /// The shared state the ladder's steps start from.
    private func adviceContext(
        _ options: AdviceOptions, environment: [String: String], stop: StopRequest?,
        notes: @escaping (Message) -> Void, progress: ((AdviceProgress) -> Void)?
    ) throws -> AdviceContext {
        let revisions = try revisions(for: EvalOptions(template: options.template))
        var base = EvalOptions(template: options.template)
        base.evalset = try evalsetName(for: base.with { $0.evalset = options.evalset }, revisions: revisions)
        base.models = [ModelChoice(options.model)]
        base.limit = options.budget
        base.seed = options.seed
        base.concurrency = options.concurrency
        base.reader = options.reader
        let evalset = try library.evalset(named: base.evalset!)
        let devCases = try store.cases(evalsetID: evalset.record.id, split: .dev).count
        guard devCases > 0 else {
            throw Refusal("eval set \(evalset.name) has no dev cases to measure the ladder on")
        }
        return AdviceContext(
            workspace: self, options: options, base: base, evalset: evalset, devCases: devCases,
            train: try store.cases(evalsetID: evalset.record.id, split: .train), environment: environment, stop: stop,
            notes: notes, progress: progress)
    }

    /// Rounds of more dev cases for the contenders while the decision is open: each round scores
    /// every contender on twice the cases (`FollowUpPolicy`), until the decision settles, every dev
    /// case is scored, or `budget` requests are spent. The tests are valid at whatever round this
    /// stops (`DecisionRule`).
    private func followUp(
        _ first: Decision?, rule: DecisionRule, context: AdviceContext, losers: [Outcomes], budget: Int
    ) async throws -> (Decision?, Advice.FollowUp) {
        var record = Advice.FollowUp(requestBudget: budget)
        var decision = first
        var spent = 0
        while let current = decision,
            let round = FollowUpPolicy.nextRound(
                current, rungs: context.rungs, devCases: context.devCases, requestsLeft: budget - spent)
        {
            let requests = round.rungs.map { max(0, round.cases - context.rungs[$0].cases) }.reduce(0, +)
            let evaluations = round.rungs.map { index in
                (context.rungs[index].label, context.rungOptions[index].with { $0.limit = round.cases })
            }
            let reports = try await context.runTogether("follow-up, \(round.cases) cases", evaluations)
            try context.update { rungs in
                for (index, report) in zip(round.rungs, reports) {
                    let runs = report.runs.map(\.run.id)
                    rungs[index] = rungs[index].rescored(
                        Outcomes(report.runs[0].perCase, passFail: report.runs[0].isPassFail), runs: runs,
                        seed: context.seed)
                    if rungs[index].cases < round.cases {
                        throw Refusal("the follow-up scored \(rungs[index].label) on fewer cases than it asked for")
                    }
                }
            }
            spent += requests
            record.rounds.append(
                Advice.FollowUp.Round(
                    cases: round.cases, contenders: round.rungs.map { context.rungs[$0].label }, requests: requests))
            decision = rule.decide(
                context.rungs, alsoTested: losers, look: record.rounds.count, seed: context.seed)
        }
        let settled = decision.map { !$0.open && $0.verdict != .atBaseline } ?? true
        let allScored = decision.map { context.rungs[$0.best].cases >= context.devCases } ?? true
        record.ended =
            settled
            ? "the decision settled"
            : allScored
                ? "every dev case was scored"
                : "the request budget (\(setting: "follow-up")) would not pay for another round"
        return (decision, record)
    }

    /// With one-token reading, the rungs that decide (the chosen and the best) are scored
    /// generated too: each pair compared (paired, Holm-adjusted), and the decision among them made
    /// again from their generated scores, which stand.
    private func checkReader(_ decision: Decision?, rule: DecisionRule, context: AdviceContext, speeds: ComputeSpeeds?)
        async throws -> Advice.ReaderCheck?
    {
        guard let decision else { return nil }
        let decisive = decision.chosen == decision.best ? [decision.best] : [decision.chosen, decision.best]
        let evaluations = decisive.map { index in
            (
                context.rungs[index].label,
                context.rungOptions[index].with {
                    $0.reader = .generate
                    $0.limit = context.rungs[index].cases
                }
            )
        }
        let reports = try await context.runTogether("generated check", evaluations)
        var generated: [Rung] = []
        var comparisons: [Comparison] = []
        for (index, report) in zip(decisive, reports) {
            let run = report.runs[0]
            let oneToken = context.rungs[index]
            var rung = try context.rung(run, kind: oneToken.kind, label: oneToken.label, shipping: oneToken.shipping)
            if let speeds, !context.ownSpeeds.contains(index) { rung = rung.costed(at: speeds) }
            rung.oneOffSeconds = oneToken.oneOffSeconds
            rung.oneOffUSD = oneToken.oneOffUSD
            rung.oneOffPaid = oneToken.oneOffPaid
            rung.labeledExamples = oneToken.labeledExamples
            generated.append(rung)
            comparisons.append(
                Comparisons.paired(
                    rung.outcomes.perCase, oneToken.outcomes.perCase, passFail: rung.passFail && oneToken.passFail,
                    seed: context.seed))
        }
        let entries = zip(zip(decisive, generated), Comparisons.adjusted(comparisons)).map { pair, comparison in
            Advice.ReaderCheck.Entry(
                rung: pair.1.label, oneToken: context.rungs[pair.0].interval, generated: pair.1.interval,
                comparison: comparison)
        }
        let generatedDecision = rule.decide(generated, seed: context.seed).map {
            rule.withIntervals($0, rungs: generated, seed: context.seed)
        }
        return Advice.ReaderCheck(entries: entries, decision: generatedDecision, rungs: generated)
    }

    /// What the tuned rung with the most data saves against the rung chosen without fine-tuning:
    /// prompt tokens, cost per request (and, with `--value`, the value of the score it adds), and
    /// the requests after which its one-off cost is paid back.
    private func againstPrompting(_ tuned: Advice.FineTuned, rule: DecisionRule, rungs: [Rung]) -> Advice.FineTuned {
        var value = tuned
        let prompting = rungs.filter { $0.kind != .fineTuned }
        guard let rung = rungs.filter({ $0.kind == .fineTuned }).max(by: { $0.labeledExamples < $1.labeledExamples }),
            let without = rule.decide(prompting)
        else { return value }
        let alternative = prompting[without.chosen]
        value.alternative = alternative.label
        value.tokensSavedPerRequest = alternative.promptTokens - rung.promptTokens
        var saving = rule.cost.perRequest(alternative) - rule.cost.perRequest(rung)
        if let worth = rule.value { saving += worth * (rung.interval.estimate - alternative.interval.estimate) }
        value.savingPerRequest = saving
        if let oneOff = rule.cost.oneOff(rung), oneOff > 0 {
            value.breakEvenRequests = CostModel.breakEven(oneOff: oneOff, savingPerRequest: saving)
        }
        return value
    }

    /// The stored advice `id` (or the newest), as `advise` returned it.
    package func advice(id: Int?) throws -> Advice {
        let record = try id.map { try store.advice(id: $0) } ?? store.latestAdvice()
        guard let record else {
            throw Refusal(
                id.map { "there is no advice \($0)" }
                    ?? "there is no advice yet; \(command: "advise TEMPLATE") makes some")
        }
        var advice: Advice
        do {
            advice = try Workspace.decoder.decode(Advice.self, from: Data(record.report.utf8))
        } catch {
            throw Refusal(
                "advice \(record.id) was stored by an earlier version of pwb in another form; \(command: "advise") again makes it anew"
            )
        }
        advice.id = record.id
        advice.createdAt = record.createdAt
        return advice
    }

    /// Writes the prompt advice `advice` recommends as `DIRECTORY/TEMPLATE/VARIANT.prompt`, its
    /// examples written in, for `pwb import` to add as a variant. Returns the file's path.
    package func exportAdvice(_ advice: Advice, to directory: String) throws -> String {
        guard let chosen = advice.recommended else {
            throw Refusal("advice \(advice.id ?? 0) recommends no rung; there is no prompt to write")
        }
        guard let file = chosen.shipping?.promptFile, let revision = chosen.shipping?.revision else {
            throw Refusal(
                "advice \(advice.id ?? 0) recommends \(chosen.label), which is not one prompt to write: \(chosen.shipping?.description ?? "it has no prompt")"
            )
        }
        let variant =
            (revision.split(separator: "/").last.map(String.init) ?? revision)
            .split(separator: "@").first.map(String.init) ?? "variant"
        let path = "\(directory)/\(advice.template)/\(variant)-advice-\(advice.id ?? 0).prompt"
        try writeUserFile(file, to: path)
        return path
    }

    /// Advice as JSON: what is stored, and what `--json` prints.
    package static func encode(_ advice: Advice, pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(advice), as: UTF8.self)
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
