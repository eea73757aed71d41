import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// What `pwb advise` is asked.
public struct AdviceOptions: Sendable {
    public var template: String
    public var evalset: String?
    /// The score to reach, 0…1.
    public var target = 0.9
    public var volumePerMonth: Double?
    public var prices: Prices?
    public var fineTuneCostUSD: Double?
    /// A served fine-tuned model to measure instead of projecting (a name from config.json).
    public var fineTunedModel: String?
    /// Train LoRA adapters on a quarter, half and all of the train split and measure them.
    public var fineTune = false
    public var fineTuneEpochs = 2
    /// The time the training may take; sizes that would not fit are left out, up front.
    public var fineTuneMinutes = 30.0
    /// Train on at most this many train cases (the largest adapter's size).
    public var fineTuneMaxExamples: Int?
    /// The model the ladder is climbed with.
    public var model: String?
    /// Dev cases scored per rung.
    public var budget = 40
    /// The largest k tried (besides what fits the context and the train split).
    public var maxShots = 8
    public var draws = 3
    public var passages = 3
    public var seed = 0
    public var concurrency: Int?
    /// Every rung asks for one token and scores the label from its log-probabilities (true), or
    /// generates its answer (false); nil: one token where it can tell the eval set's labels apart,
    /// decided once, at zero-shot, for the whole ladder.
    public var oneToken: Bool?

    public init(template: String) {
        self.template = template
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "template": .string(template), "target": .number(target), "budget": .number(Double(budget)),
            "max_shots": .number(Double(maxShots)), "draws": .number(Double(draws)), "seed": .number(Double(seed)),
        ]
        if let evalset { object["evalset"] = .string(evalset) }
        if let volumePerMonth { object["volume"] = .number(volumePerMonth) }
        if let prices {
            object["prices"] = ["in": .number(prices.inputPerMillion), "out": .number(prices.outputPerMillion)]
        }
        if let fineTuneCostUSD { object["finetune_cost"] = .number(fineTuneCostUSD) }
        if let fineTunedModel { object["finetuned_model"] = .string(fineTunedModel) }
        if fineTune {
            object["finetune"] = [
                "epochs": .number(Double(fineTuneEpochs)), "minutes": .number(fineTuneMinutes),
                "max_examples": fineTuneMaxExamples.map { .number(Double($0)) } ?? .null,
            ]
        }
        if let model { object["model"] = .string(model) }
        if let oneToken { object["one_token"] = .bool(oneToken) }
        return .object(object)
    }
}

/// Where the advisor is in its ladder, for a progress line: scoring a rung, or training.
public struct AdviceProgress: Sendable {
    public var rung: String
    public var eval: EvalProgress?
    public var training: FineTuneProgress?
}

extension Workspace {
    /// Climbs the ladder on the dev split with the same engine as `pwb eval` — zero-shot with
    /// every variant, few-shot with the best one (k = 1, 2, 4, … random in several draws, and
    /// similar), retrieval when the template and eval set allow it, a served fine-tuned model
    /// when one is named — and decides with `DecisionRule`. The few-shot learning curve is shown
    /// as a scenario beside it, never as a rung. Every run it makes is an ordinary stored run;
    /// the advice is stored too.
    public func advise(
        _ options: AdviceOptions, environment: [String: String], stop: StopRequest? = nil,
        notes: (String) -> Void = { _ in }, progress: ((AdviceProgress) -> Void)? = nil
    ) async throws -> Advice {
        guard (0...1).contains(options.target) else {
            throw Refusal("\(setting: "target") must be between 0 and 1, not \(options.target)")
        }
        if let volume = options.volumePerMonth, !(0...1e12).contains(volume) {
            throw Refusal("\(setting: "volume") must be between 0 and 1e12 requests a month, not \(volume)")
        }
        if let prices = options.prices,
            !(0...1e9).contains(prices.inputPerMillion) || !(0...1e9).contains(prices.outputPerMillion)
        {
            throw Refusal("prices must be between 0 and 1e9 dollars per million tokens")
        }
        if let cost = options.fineTuneCostUSD, !(0...1e12).contains(cost) {
            throw Refusal("\(setting: "finetune-cost") must be between 0 and 1e12 dollars, not \(cost)")
        }
        if options.fineTune && options.fineTunedModel != nil {
            throw Refusal(
                "\(setting: "finetune") trains adapters here and \(setting: "finetuned-model") measures a served one; choose one of them"
            )
        }
        let configuredModel = try runtimeConfiguration(environment: environment).select(options.model)
        if options.fineTune && configuredModel != nil {
            throw Refusal(
                "\(setting: "finetune") trains adapters for the model the local runtime serves; leave out \(setting: "model"), or measure a tuned model your server serves with \(setting: "finetuned-model")"
            )
        }
        guard (1...100).contains(options.fineTuneEpochs), options.fineTuneMinutes > 0 else {
            throw Refusal("\(setting: "finetune-epochs") must be 1…100 and \(setting: "finetune-minutes") above 0")
        }
        guard options.budget >= 1 else { throw Refusal("\(setting: "budget") must be at least 1") }
        let started = ContinuousClock.now
        let revisions = try revisions(for: EvalOptions(template: options.template))
        var base = EvalOptions(template: options.template)
        base.evalset = try evalsetName(for: base.with { $0.evalset = options.evalset }, revisions: revisions)
        base.models = [options.model]
        base.limit = options.budget
        base.seed = options.seed
        base.concurrency = options.concurrency
        // One token is settled at zero-shot, against the ladder's own server; a tuned model served
        // elsewhere might not give log-probabilities, so with one the answers are generated unless
        // one token is asked for.
        base.oneToken = options.oneToken ?? false
        base.oneTokenWhereItFits = options.oneToken == nil && options.fineTunedModel == nil
        let evalset = try evalset(named: base.evalset!)
        let devCases = try store.cases(evalsetID: evalset.record.id, split: .dev).count
        guard devCases > 0 else {
            throw Refusal("eval set \(evalset.name) has no dev cases to measure the ladder on")
        }
        let train = try store.cases(evalsetID: evalset.record.id, split: .train)
        let cost = CostModel(prices: options.prices, volumePerMonth: options.volumePerMonth)
        let seed = UInt64(options.seed) &+ 1

        func run(_ label: String, _ configure: (inout EvalOptions) -> Void) async throws -> EvalReport {
            try await runTogether(label, [(label, base.with(configure))])[0]
        }
        /// Independent rungs scored side by side (`evaluate` of several): `label` names them in
        /// the progress line, each its own in an error.
        func runTogether(_ label: String, _ rungs: [(label: String, options: EvalOptions)])
            async throws -> [EvalReport]
        {
            let reports = try await evaluate(
                rungs.map(\.options), environment: environment, stop: stop, notes: notes,
                progress: progress.map { callback in { callback(AdviceProgress(rung: label, eval: $0)) } })
            // A rung scored only on the cases that got an answer would be judged on other cases
            // than the rest of the ladder (and long prompts fail more often): stop instead.
            for (rung, report) in zip(rungs, reports) {
                if let unanswered = try unansweredRequests(in: report) {
                    throw IncompleteRung(
                        rung: rung.label, failed: unanswered.failed, planned: unanswered.planned,
                        firstError: unanswered.error, cause: unanswered.cause)
                }
            }
            return reports
        }

        // 1. Zero-shot, every variant. Whether labels are read from one token is settled here, for
        // every rung: rungs scored two ways could not be compared.
        let zero = try await run("zero-shot") { $0.variants = nil }
        base.oneToken = zero.runs.first?.oneToken ?? base.oneToken
        base.oneTokenWhereItFits = false
        guard let bestIndex = zero.best, zero.runs[bestIndex].headline != nil,
            !zero.runs[bestIndex].perCase.isEmpty
        else {
            throw Refusal(
                "zero-shot produced no scores (every request failed); see \(command: "runs show \(zero.runs.first?.run.id ?? 0)")"
            )
        }
        let best = zero.runs[bestIndex]
        let zeroShot = Advice.ZeroShot(
            variants: zero.runs.map(Workspace.summary), best: best.variant,
            comparisons: zero.comparisons.map {
                Advice.VariantComparison(variant: zero.runs[$0.other].variant, comparison: $0.comparison)
            })
        let zeroRung = rung(best, kind: .zeroShot, label: "zero-shot (\(best.variant))", seed: seed)
        var rungs = [zeroRung]
        // Every run of the prompting ladder: the server's speeds are measured over all of them.
        var ladderRuns = zero.runs.map(\.run.id)
        let bestRevision = try resolve(revisionID: best.run.revisionID)
        let pinned = ["\(best.variant)@\(bestRevision.revision.number)"]

        // 2. Few-shot with the best variant.
        var fewShot = Step<Advice.FewShot>.skipped("the eval set has no train split to take examples from")
        var curveSeries: [(k: Int, perCase: [Int: Double])] = [(0, best.perCase)]
        if !train.isEmpty, bestRevision.file.settings.exampleFormat == nil {
            fewShot = .skipped("\(bestRevision.reference) has no example_format, so it cannot be shown examples")
        } else if !train.isEmpty {
            let fit = try await maxShotsThatFit(bestRevision, train: train, zeroShot: best, environment: environment)
            let limit = min(fit ?? options.maxShots, options.maxShots, train.count)
            if limit < 1 {
                fewShot = .skipped(
                    "the context is too small for even one example (the zero-shot prompt takes \(Int(best.meanPromptTokens ?? 0)) tokens)"
                )
            } else {
                var points: [Advice.FewShotPoint] = []
                let ks = Array(sequence(first: 1, next: { $0 * 2 }).prefix(while: { $0 <= limit }))
                // Every k's draws and similar run are independent of one another: scored together,
                // the server's slots each keep one run's examples (the similar runs one slot's, a
                // case's k one after another) and none waits for a run to end.
                // Per k: the random draws, then the similar run, as they were scored one by one.
                var strategies: [(label: String, options: EvalOptions)] = []
                for k in ks {
                    for draw in 0..<options.draws {
                        let random = Strategy(shots: k, selection: .random, draw: draw)
                        strategies.append(("\(k)-shot random #\(draw + 1)", base.with { $0.strategy = random }))
                    }
                    let similar = Strategy(shots: k, selection: .similar)
                    strategies.append(("\(k)-shot similar", base.with { $0.strategy = similar }))
                }
                for index in strategies.indices { strategies[index].options.variants = pinned }
                let label = ks.count == 1 ? "1-shot" : "1…\(ks[ks.count - 1])-shot"
                var measured = try await runTogether(label, strategies).map { $0.runs[0] }[...]
                ladderRuns += measured.map(\.run.id)
                for k in ks {
                    let draws = Array(measured.prefix(options.draws))
                    measured = measured.dropFirst(options.draws)
                    let similar = measured.removeFirst()
                    points.append(
                        Advice.FewShotPoint(
                            k: k, random: draws.map(Workspace.summary), similar: Workspace.summary(similar)))
                    let scored = draws.filter { !$0.perCase.isEmpty }
                    if !scored.isEmpty {
                        let outcomes = Outcomes(
                            draws: scored.map(\.perCase), passFail: scored.allSatisfy(\.isPassFail))
                        curveSeries.append((k, outcomes.perCase))
                        // Its costs are the median draw's: typical, not the luckiest.
                        var random = rung(
                            scored[scored.count / 2], kind: .fewShot(k: k, selection: .random),
                            label: "\(k)-shot random", outcomes: outcomes, seed: seed)
                        random.labeledExamples = k
                        random.runs = scored.map(\.run.id)
                        rungs.append(random)
                    }
                    if !similar.perCase.isEmpty {
                        var similarRung = rung(
                            similar, kind: .fewShot(k: k, selection: .similar), label: "\(k)-shot similar", seed: seed)
                        similarRung.labeledExamples = train.count
                        rungs.append(similarRung)
                    }
                }
                fewShot = .measured(
                    Advice.FewShot(
                        variant: bestRevision.reference, draws: options.draws, maxShots: limit,
                        limitedBy: limit == train.count
                            ? "the \(train.count) train cases"
                            : limit == fit ? "the context window" : "--max-shots \(options.maxShots)",
                        points: points))
            }
        }

        // 3. Retrieval, when the template has a slot for it and the eval set a corpus.
        var retrieval = Step<Advice.Retrieval>.skipped(
            "no corpus is attached to the eval set (add \"corpus\": NAME to its settings)")
        if !bestRevision.file.body.variables.contains(TemplateBody.contextSlot) {
            retrieval = .skipped("\(bestRevision.reference) has no {{context}} slot")
        } else if let corpusName = evalset.settings.corpus {
            let passages = try store.corpus(named: corpusName).map { try store.passageCount(corpusID: $0.id) }
            if (passages ?? 0) == 0 {
                retrieval = .skipped(
                    "corpus \(corpusName) is \(passages == nil ? "not imported" : "empty"); add documents with pwb corpus add \(corpusName) PATH…"
                )
            } else {
                let rag = try await run("retrieval") {
                    $0.variants = pinned
                    $0.strategy = Strategy(corpus: corpusName, passages: options.passages)
                }.runs[0]
                ladderRuns.append(rag.run.id)
                if !rag.perCase.isEmpty {
                    rungs.append(
                        rung(
                            rag, kind: .retrieval(passages: options.passages),
                            label: "retrieval (\(options.passages) passages)", seed: seed))
                }
                retrieval = .measured(
                    Advice.Retrieval(
                        corpus: corpusName, passages: options.passages, run: Workspace.summary(rag),
                        comparison: Comparisons.paired(
                            rag.perCase, best.perCase, passFail: rag.isPassFail && best.isPassFail, seed: seed)))
            }
        }

        // 4. Fine-tuning, measured: adapters trained here, or a served tuned model; never projected.
        var fineTuning = Step<Advice.FineTuned>.skipped(
            train.isEmpty
                ? "the eval set has no train split to fine-tune on"
                : "not measured: pwb advise --finetune trains adapters here, or serve a tuned model and pass --finetuned-model NAME"
        )
        // What a trivial answer scores (label tasks): chance, or always the majority label.
        let baseline = best.headline?.baseline.map {
            Advice.Baseline(
                labels: $0.labelCount, chance: $0.chance, majorityLabel: $0.majorityLabel ?? "",
                majority: $0.majorityRate)
        }
        // Every prompting rung is costed at the same speeds (and so is an adapter, served by the
        // same server and model); a tuned model served elsewhere at its own.
        let speeds = try computeSpeeds(ladderRuns)
        if let speeds { rungs = rungs.map { $0.costed(at: speeds) } }
        let prompting = rungs
        var tunedRungs: [Rung] = []
        var tuned: Advice.FineTuned?
        if let fineTunedModel = options.fineTunedModel {
            let measured = try await run("fine-tuned model") {
                $0.variants = pinned
                $0.models = [fineTunedModel]
            }.runs[0]
            tuned = Advice.FineTuned(model: fineTunedModel, run: Workspace.summary(measured))
            if !measured.perCase.isEmpty {
                var rung = rung(measured, kind: .fineTuned, label: "fine-tuned (\(fineTunedModel))", seed: seed)
                if let own = try computeSpeeds([measured.run.id]) { rung = rung.costed(at: own) }
                rung.oneOffUSD = options.fineTuneCostUSD
                rung.labeledExamples = train.count
                tunedRungs.append(rung)
            }
        } else if options.fineTune && !train.isEmpty {
            switch try fineTuningPlan(options, train: train.count, environment: environment) {
            case .skip(let reason):
                fineTuning = .skipped(reason)
            case .train(let sizes, let estimate):
                notes(
                    "fine-tuning: adapters on \(sizes.map(String.init).joined(separator: ", ")) train cases, \(options.fineTuneEpochs) epoch\(options.fineTuneEpochs == 1 ? "" : "s") each, about \(Advice.duration(estimate)) of training (budget \(Advice.duration(options.fineTuneMinutes * 60)), --finetune-minutes)"
                )
                var request = FineTuneOptions(evalset: evalset.name)
                request.template = bestRevision.reference
                request.examples = sizes
                request.epochs = options.fineTuneEpochs
                request.seed = options.seed
                let adapters = try await finetune(
                    request, environment: environment, stop: stop, notes: notes,
                    progress: progress.map { callback in
                        { callback(AdviceProgress(rung: "fine-tuning", eval: nil, training: $0)) }
                    })
                // One restart of the managed runtime loads them all, rather than one per adapter.
                _ = try await managedServer(environment: environment).ensureRunning(
                    adapters: adapters.map(adapterPath))
                let bestPrompting = prompting.indices.max {
                    (prompting[$0].interval.estimate, -prompting[$0].effort)
                        < (prompting[$1].interval.estimate, -prompting[$1].effort)
                }
                var measured: [Advice.TunedAdapter] = []
                for adapter in adapters {
                    let cases = adapter.training["examples"]?.intValue ?? train.count
                    let report = try await run("fine-tuned on \(cases)") {
                        $0.variants = pinned
                        $0.adapter = adapter.name
                    }.runs[0]
                    let seconds = adapter.training["training_seconds"]?.doubleValue ?? 0
                    var entry = Advice.TunedAdapter(
                        name: adapter.name, trainCases: cases, epochs: adapter.training["epochs"]?.intValue ?? 0,
                        rank: adapter.training["rank"]?.intValue ?? 0, trainingSeconds: seconds,
                        examplesPerSecond: adapter.training["examples_per_second"]?.doubleValue ?? 0,
                        run: Workspace.summary(report))
                    guard !report.perCase.isEmpty else { continue }
                    var rung = rung(
                        report, kind: .fineTuned, label: "fine-tuned on \(cases)", seed: seed)
                    if let speeds { rung = rung.costed(at: speeds) }
                    rung.oneOffSeconds = seconds
                    rung.oneOffUSD = options.fineTuneCostUSD
                    rung.labeledExamples = cases
                    if let index = bestPrompting {
                        entry.againstPrompting = Advice.VariantComparison(
                            variant: prompting[index].label,
                            comparison: Comparisons.paired(
                                rung.outcomes.perCase, prompting[index].outcomes.perCase,
                                passFail: rung.passFail && prompting[index].passFail, seed: seed))
                    }
                    measured.append(entry)
                    tunedRungs.append(rung)
                }
                if let largest = measured.max(by: { $0.trainCases < $1.trainCases }) {
                    var value = Advice.FineTuned(model: nil, run: largest.run)
                    value.adapters = measured
                    value.gainPerDoubling = Advice.FineTuned.gainPerDoubling(
                        measured.map { ($0.trainCases, $0.run.interval.estimate) })
                    value.estimatedSeconds = estimate
                    value.budgetSeconds = options.fineTuneMinutes * 60
                    tuned = value
                }
            }
        }
        if var value = tuned {
            // What the tuned rung with the most data saves against the rung chosen without it.
            if let rung = tunedRungs.max(by: { $0.labeledExamples < $1.labeledExamples }),
                let without = DecisionRule.decide(
                    prompting, target: options.target, cost: cost, baseline: baseline?.rate, seed: seed)
            {
                let alternative = prompting[without.chosen]
                value.alternative = alternative.label
                value.tokensSavedPerRequest = alternative.promptTokens - rung.promptTokens
                let saving = cost.perRequest(alternative) - cost.perRequest(rung)
                value.savingPerRequest = saving
                if let oneOff = cost.oneOff(rung), oneOff > 0 {
                    value.breakEvenRequests = CostModel.breakEven(oneOff: oneOff, savingPerRequest: saving)
                }
            }
            fineTuning = .measured(value)
        }
        rungs += tunedRungs

        // 5. The decision, over measured rungs only; the curve is a scenario beside it.
        let projection =
            curveSeries.count > 1
            ? Projection.project(curveSeries, target: options.target, trainSize: train.count, seed: seed) : nil
        // The other zero-shot variants were looked at too: their tests join the family.
        let otherVariants = zero.runs.indices.filter { $0 != bestIndex }.map {
            Outcomes(zero.runs[$0].perCase, passFail: zero.runs[$0].isPassFail)
        }
        let decision = DecisionRule.decide(
            rungs, target: options.target, cost: cost, baseline: baseline?.rate, alsoTested: otherVariants, seed: seed)
        let elapsed = started.duration(to: .now)
        var advice = Advice(
            template: options.template, evalset: evalset.name, model: "\(best.modelName) (\(best.run.model))",
            devCases: devCases, casesPerRung: min(options.budget, devCases), trainCases: train.count,
            target: options.target, volumePerMonth: options.volumePerMonth, prices: options.prices,
            fineTuneCostUSD: options.fineTuneCostUSD, baseline: baseline, zeroShot: zeroShot, fewShot: fewShot,
            retrieval: retrieval, fineTuning: fineTuning, projection: projection, rungs: rungs, decision: decision,
            elapsedSeconds: elapsed.inSeconds)
        if base.oneToken { advice.oneToken = true }
        advice.speeds = speeds
        let template = try template(named: options.template)
        advice.id = try store.insertAdvice(
            templateID: template.id, evalsetID: evalset.record.id, params: options.json,
            report: try Workspace.encode(advice))
        return advice
    }

    /// The stored advice `id` (or the newest), as `advise` returned it.
    public func advice(id: Int?) throws -> Advice {
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

    /// Advice as JSON: what is stored, and what `--json` prints.
    public static func encode(_ advice: Advice, pretty: Bool = false) throws -> String {
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

    enum FineTuningPlan {
        case train(sizes: [Int], estimatedSeconds: Double)
        case skip(String)
    }

    /// The adapters the advisor trains — on a quarter, half and all of the train split (at most
    /// `fineTuneMaxExamples`), at least `FineTuneOptions.minimumExamples` each — and the training
    /// time they are estimated to take, from the speed adapters trained here before reached (or
    /// one example a second). Sizes that would not fit the budget are dropped, largest first.
    func fineTuningPlan(_ options: AdviceOptions, train: Int, environment: [String: String]) throws
        -> FineTuningPlan
    {
        let total = min(train, options.fineTuneMaxExamples ?? train)
        let sizes = Array(Set([total / 4, total / 2, total].filter { $0 >= FineTuneOptions.minimumExamples })).sorted()
        guard !sizes.isEmpty else {
            return .skip(
                "\(total) train cases are too few to fine-tune on (at least \(FineTuneOptions.minimumExamples))")
        }
        let speeds = try store.adapters().compactMap { $0.training["examples_per_second"]?.doubleValue }.filter {
            $0 > 0
        }
        let perSecond = speeds.isEmpty ? 1.0 : speeds.sorted()[speeds.count / 2]
        // Loading the model and converting each adapter, besides the training steps.
        func estimate(_ sizes: [Int]) -> Double {
            60 + sizes.map { Double($0 * options.fineTuneEpochs) / perSecond + 15 }.reduce(0, +)
        }
        var chosen = sizes
        while !chosen.isEmpty && estimate(chosen) > options.fineTuneMinutes * 60 { chosen.removeLast() }
        guard !chosen.isEmpty else {
            return .skip(
                "training on \(sizes[0]) cases would take about \(Advice.duration(estimate([sizes[0]]))), over the budget of \(Advice.duration(options.fineTuneMinutes * 60)) (--finetune-minutes)"
            )
        }
        return .train(sizes: chosen, estimatedSeconds: estimate(chosen))
    }

    /// How many examples fit: the context, less the zero-shot prompt and the tokens generated,
    /// over the tokens of one example (counted by the server when it can, else estimated).
    private func maxShotsThatFit(
        _ revision: ResolvedRevision, train: [StoredCase], zeroShot: RunReport, environment: [String: String]
    ) async throws -> Int? {
        let model = try await connect(
            model: zeroShot.modelName == "local" ? nil : zeroShot.modelName, environment: environment)
        guard let context = model.properties.contextSize else { return nil }
        let format = try exampleFormat(revision)
        let sample = Array(train.prefix(8).map(\.evalCase))
        let block = try FewShot.render(
            sample, format: format, separator: revision.file.settings.exampleSeparator ?? "\n\n")
        let tokens = try await model.client.tokenCount(block).map(Double.init) ?? Double(block.utf8.count) / 3
        let perExample = max(1, tokens / Double(sample.count))
        let room =
            Double(context) - (zeroShot.meanPromptTokens ?? 0) * 1.5
            - Double(revision.file.settings.maxTokens ?? Prompting.defaultMaxTokens)
        return max(0, Int(room / perExample))
    }

    /// A rung from a run (scored by `outcomes` when given: a random rung's draws). Its compute is
    /// its median latency until `Rung.costed(at:)` reckons it at the ladder's speeds, which a
    /// server whose answers carry no token counts never gives.
    func rung(_ run: RunReport, kind: Rung.Kind, label: String, outcomes: Outcomes? = nil, seed: UInt64) -> Rung {
        Rung(
            kind: kind, label: label, outcomes: outcomes ?? Outcomes(run.perCase, passFail: run.isPassFail),
            promptTokens: run.meanPromptTokens ?? 0, completionTokens: run.meanCompletionTokens ?? 0,
            computeSeconds: (run.latencyP50 ?? 0) / 1000, runs: [run.run.id], seed: seed)
    }

    /// The server's speeds over the answers of `runs`, from the compute it reported for each:
    /// llama.cpp's `prompt_ms` over `prompt_n` (the tokens it read, not those it found cached) and
    /// `predicted_ms` over `predicted_n`; Ollama's `prompt_eval_ms` and `eval_ms` over the token
    /// counts. Without timings, one speed for every token from the answers' latencies. Nil when
    /// no answer has tokens to measure by.
    func computeSpeeds(_ runs: [Int]) throws -> ComputeSpeeds? {
        var read = (ms: 0.0, tokens: 0.0)
        var generated = (ms: 0.0, tokens: 0.0)
        var whole = (ms: 0.0, tokens: 0.0)
        /// Adds an answer's milliseconds for some tokens: llama.cpp names its own count (`…_n`),
        /// Ollama's count is the answer's.
        func add(
            _ sum: inout (ms: Double, tokens: Double), _ timings: JSONValue?, _ ms: String, _ n: String,
            or ollama: String, _ tokens: Int?
        ) {
            if let spent = timings?[ms]?.doubleValue, let count = timings?[n]?.doubleValue {
                sum.ms += spent
                sum.tokens += count
            } else if let spent = timings?[ollama]?.doubleValue {
                sum.ms += spent
                sum.tokens += Double(tokens ?? 0)
            }
        }
        for run in runs {
            var keys: [String] = []
            try store.forEachResult(runID: run) { result in
                if let key = result.responseKey { keys.append(key) }
            }
            let responses = try store.cachedResponses(keys: keys, logprobs: false)
            for key in keys {
                guard let response = responses[key] else { continue }
                if response.promptTokens != nil || response.completionTokens != nil {
                    whole.ms += response.latencyMilliseconds
                    whole.tokens += Double((response.promptTokens ?? 0) + (response.completionTokens ?? 0))
                }
                add(&read, response.timings, "prompt_ms", "prompt_n", or: "prompt_eval_ms", response.promptTokens)
                add(
                    &generated, response.timings, "predicted_ms", "predicted_n", or: "eval_ms",
                    response.completionTokens)
            }
        }
        if read.tokens > 0, generated.tokens > 0 {
            return ComputeSpeeds(
                secondsPerPromptToken: read.ms / read.tokens / 1000,
                secondsPerGeneratedToken: generated.ms / generated.tokens / 1000, reportedByServer: true)
        }
        guard whole.tokens > 0 else { return nil }
        let perToken = whole.ms / whole.tokens / 1000
        return ComputeSpeeds(
            secondsPerPromptToken: perToken, secondsPerGeneratedToken: perToken, reportedByServer: false)
    }

    static func summary(_ run: RunReport) -> RunSummary {
        RunSummary(
            run: run.run.id, variant: run.variant, strategy: run.strategy.label,
            interval: run.headline?.interval ?? Interval(estimate: 0, lower: 0, upper: 1), cases: run.perCase.count,
            errors: run.errors, promptTokens: run.meanPromptTokens, latencyP50Milliseconds: run.latencyP50,
            cachedShare: run.cachedShare)
    }
}

/// A rung whose requests did not all get an answer: the advice is not made from it.
public struct IncompleteRung: Error, Sendable, CustomStringConvertible {
    public var rung: String
    public var failed: Int
    public var planned: Int
    public var firstError: String?
    /// Why the first failure named failed, which decides the exit code.
    public var cause: UnansweredRequests.Cause = .runtime

    public var description: String {
        "\(failed) of \(planned) requests of the \(rung) rung got no answer\(firstError.map { " (the first: \($0))" } ?? ""); a rung scored on fewer cases than the others would bias the advice, so none is given; the runs made so far are kept, and pwb advise again asks only what is missing"
    }
}

extension EvalOptions {
    func with(_ configure: (inout EvalOptions) -> Void) -> EvalOptions {
        var copy = self
        configure(&copy)
        return copy
    }
}
