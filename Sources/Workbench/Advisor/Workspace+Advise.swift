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
        if let model { object["model"] = .string(model) }
        return .object(object)
    }
}

/// Where the advisor is in its ladder, for a progress line.
public struct AdviceProgress: Sendable {
    public var rung: String
    public var eval: EvalProgress
}

extension Workspace {
    /// Climbs the ladder on the dev split with the same engine as `pwb eval` — zero-shot with
    /// every variant, few-shot with the best one (k = 1, 2, 4, … random in several draws, and
    /// similar), retrieval when the template and eval set allow it, fine-tuning projected (or
    /// measured with a served fine-tuned model) — and recommends a rung with its numbers.
    /// Every run it makes is an ordinary stored run; the advice is stored too.
    /// - Returns: the advice as JSON (what `pwb advise --show ID` prints again), with its id.
    public func advise(
        _ options: AdviceOptions, environment: [String: String], stop: StopRequest? = nil,
        notes: (String) -> Void = { _ in }, progress: ((AdviceProgress) -> Void)? = nil
    ) async throws -> JSONValue {
        guard (0...1).contains(options.target) else {
            throw UsageError("--target must be between 0 and 1, not \(options.target)")
        }
        if let volume = options.volumePerMonth, volume < 0 {
            throw UsageError("--volume must be 0 or more, not \(volume)")
        }
        if let prices = options.prices, prices.inputPerMillion < 0 || prices.outputPerMillion < 0 {
            throw UsageError("prices must be 0 or more")
        }
        if let cost = options.fineTuneCostUSD, cost < 0 {
            throw UsageError("--finetune-cost must be 0 or more, not \(cost)")
        }
        guard options.budget >= 1 else { throw UsageError("--budget must be at least 1") }
        let started = ContinuousClock.now
        let revisions = try revisions(for: EvalOptions(template: options.template))
        var base = EvalOptions(template: options.template)
        base.evalset = try evalsetName(for: base.with { $0.evalset = options.evalset }, revisions: revisions)
        base.models = [options.model]
        base.limit = options.budget
        base.seed = options.seed
        base.concurrency = options.concurrency
        let evalset = try evalset(named: base.evalset!)
        let devCases = try store.cases(evalsetID: evalset.record.id, split: .dev).count
        guard devCases > 0 else {
            throw UsageError("eval set \(evalset.name) has no dev cases to measure the ladder on")
        }
        let train = try store.cases(evalsetID: evalset.record.id, split: .train)
        let used = min(options.budget, devCases)
        var report: [String: JSONValue] = [
            "template": .string(options.template), "evalset": .string(evalset.name), "split": "dev",
            "dev_cases": .number(Double(devCases)), "cases_per_rung": .number(Double(used)),
            "interval_widening": .number(Statistics.widening(capped: used, full: devCases)),
            "target": .number(options.target), "train_cases": .number(Double(train.count)),
        ]
        let cost = CostModel(prices: options.prices, volumePerMonth: options.volumePerMonth)
        report["volume"] = options.volumePerMonth.map { .number($0) } ?? .null
        report["prices"] =
            options.prices.map { ["in": .number($0.inputPerMillion), "out": .number($0.outputPerMillion)] } ?? .null
        report["cost_unit"] = .string(cost.unit)

        func run(_ label: String, _ configure: (inout EvalOptions) -> Void) async throws -> EvalReport {
            var options = base
            configure(&options)
            return try await evaluate(
                options, environment: environment, stop: stop, notes: notes,
                progress: progress.map { callback in { callback(AdviceProgress(rung: label, eval: $0)) } })
        }

        // 1. Zero-shot, every variant.
        let zero = try await run("zero-shot") { $0.variants = nil }
        guard let bestIndex = zero.best, let bestRun = zero.runs[bestIndex].headline else {
            throw UsageError("zero-shot produced no scores; see pwb runs show \(zero.runs.first?.run.id ?? 0)")
        }
        let best = zero.runs[bestIndex]
        report["model"] = .string("\(best.modelName) (\(best.run.model))")
        report["zero_shot"] = [
            "best": .string(best.variant), "best_run": .number(Double(best.run.id)),
            "runs": .array(zero.runs.map(Workspace.rungSummary)),
            "comparisons": .array(
                zero.comparisons.map { other, comparison in
                    var object = comparison.json.objectValue ?? [:]
                    object["other"] = .string(zero.runs[other].variant)
                    return .object(object)
                }),
        ]
        let zeroRung = try rung(best, kind: .zeroShot, label: "zero-shot (\(best.variant))")
        var rungs = [zeroRung]
        let bestRevision = try resolve(revisionID: best.run.revisionID)

        // 2. Few-shot with the best variant.
        var curve: LearningCurve?
        var fewShotRungs: [Rung] = []
        var maxFit: Int?
        if train.isEmpty {
            report["few_shot"] = ["skipped": "the eval set has no train split to take examples from"]
        } else if bestRevision.file.settings.exampleFormat == nil {
            report["few_shot"] = [
                "skipped": .string("\(bestRevision.reference) has no example_format, so it cannot be shown examples")
            ]
        } else {
            let fit = try await maxShotsThatFit(bestRevision, train: train, zeroShot: best, environment: environment)
            maxFit = fit
            let limit = min(fit ?? options.maxShots, options.maxShots, train.count)
            if limit < 1 {
                report["few_shot"] = [
                    "skipped": .string(
                        "the context is too small for even one example (the zero-shot prompt takes \(Int(best.meanPromptTokens ?? 0)) tokens)"
                    )
                ]
            } else {
                var ks: [Int] = []
                var k = 1
                while k <= limit {
                    ks.append(k)
                    k *= 2
                }
                var points: [JSONValue] = []
                var curvePoints: [(k: Double, score: Double)] = [(0, bestRun.interval.estimate)]
                for k in ks {
                    var draws: [RunReport] = []
                    for draw in 0..<options.draws {
                        let label = "\(k)-shot random #\(draw + 1)"
                        let eval = try await run(label) {
                            $0.variants = ["\(best.variant)@\(bestRevision.revision.number)"]
                            $0.strategy = Strategy(shots: k, selection: .random, draw: draw)
                        }
                        draws.append(eval.runs[0])
                    }
                    let similar = try await run("\(k)-shot similar") {
                        $0.variants = ["\(best.variant)@\(bestRevision.revision.number)"]
                        $0.strategy = Strategy(shots: k, selection: .similar)
                    }.runs[0]
                    let scores = draws.compactMap { $0.headline?.interval.estimate }
                    let mean = Statistics.mean(scores)
                    curvePoints.append((Double(k), mean))
                    // The rung for random examples is its median draw: typical, not the luckiest.
                    let median = draws.sorted {
                        ($0.headline?.interval.estimate ?? 0) < ($1.headline?.interval.estimate ?? 0)
                    }[draws.count / 2]
                    var randomRung = try rung(
                        median, kind: .fewShot(k: k, selection: .random), label: "\(k)-shot random")
                    randomRung.interval = Workspace.pooledInterval(draws, seed: UInt64(options.seed) &+ UInt64(k))
                    randomRung.labeledExamples = k
                    randomRung.runs = draws.map(\.run.id)
                    var similarRung = try rung(
                        similar, kind: .fewShot(k: k, selection: .similar), label: "\(k)-shot similar")
                    similarRung.labeledExamples = train.count
                    fewShotRungs += [randomRung, similarRung]
                    points.append([
                        "k": .number(Double(k)), "random": .array(draws.map(Workspace.rungSummary)),
                        "random_mean": .number(mean), "random_min": .number(scores.min() ?? 0),
                        "random_max": .number(scores.max() ?? 0), "similar": Workspace.rungSummary(similar),
                    ])
                }
                curve = LearningCurve.fit(curvePoints)
                var fewShot: [String: JSONValue] = [
                    "variant": .string(bestRevision.reference), "points": .array(points),
                    "max_shots": .number(Double(limit)), "draws": .number(Double(options.draws)),
                ]
                fewShot["limited_by"] = .string(
                    limit == train.count
                        ? "the \(train.count) train cases"
                        : limit == fit ? "the context window" : "--max-shots \(options.maxShots)")
                if let curve {
                    fewShot["curve"] = [
                        "ceiling": .number(curve.ceiling), "amplitude": .number(curve.amplitude),
                        "exponent": .number(curve.exponent), "residual": .number(curve.residual),
                        "formula": .string(curve.formula),
                        "saturation": curve.saturation().map { .number($0) } ?? .null,
                        "rises": .bool(curve.rises),
                    ]
                }
                report["few_shot"] = .object(fewShot)
                rungs += fewShotRungs
            }
        }

        // 3. Retrieval, when the template has a slot for it and the eval set a corpus.
        if !bestRevision.file.body.variables.contains(TemplateBody.contextSlot) {
            report["retrieval"] = ["skipped": .string("\(bestRevision.reference) has no {{context}} slot")]
        } else if let corpusName = evalset.settings.corpus {
            let passages = try store.corpus(named: corpusName).map { try store.passageCount(corpusID: $0.id) }
            if (passages ?? 0) == 0 {
                report["retrieval"] = [
                    "skipped": .string(
                        "corpus \(corpusName) is \(passages == nil ? "not imported" : "empty"); add documents with pwb corpus add \(corpusName) PATH…"
                    )
                ]
            } else {
                let rag = try await run("retrieval") {
                    $0.variants = ["\(best.variant)@\(bestRevision.revision.number)"]
                    $0.strategy = Strategy(corpus: corpusName, passages: options.passages)
                }.runs[0]
                let ragRung = try rung(
                    rag, kind: .retrieval(passages: options.passages), label: "retrieval (\(options.passages) passages)"
                )
                rungs.append(ragRung)
                var summary = Workspace.rungSummary(rag).objectValue ?? [:]
                summary["corpus"] = .string(corpusName)
                summary["passages"] = .number(Double(options.passages))
                summary["gain"] = .number(ragRung.interval.estimate - zeroRung.interval.estimate)
                let comparison = Comparisons.paired(
                    rag.perCase, best.perCase, passFail: rag.isPassFail && best.isPassFail)
                summary["comparison"] = comparison.json
                report["retrieval"] = .object(summary)
            }
        } else {
            report["retrieval"] = [
                "skipped": "no corpus is attached to the eval set (add \"corpus\": NAME to its settings)"
            ]
        }

        // 4. Fine-tuning: measured with a served model, else projected from the curve.
        let bestFewShot = fewShotRungs.max { $0.interval.estimate < $1.interval.estimate }
        if let fineTunedModel = options.fineTunedModel {
            let measured = try await run("fine-tuned model") {
                $0.variants = ["\(best.variant)@\(bestRevision.revision.number)"]
                $0.models = [fineTunedModel]
            }.runs[0]
            var rung = try rung(measured, kind: .fineTuned, label: "fine-tuned (\(fineTunedModel))")
            rung.oneOffUSD = options.fineTuneCostUSD
            rung.labeledExamples = train.count
            rungs.append(rung)
            report["fine_tuning"] = fineTuningJSON(
                rung, measured: true, zeroShot: zeroRung, bestFewShot: bestFewShot, cost: cost, trainSize: train.count)
        } else if train.isEmpty {
            report["fine_tuning"] = ["skipped": "the eval set has no train split to fine-tune on"]
        } else if let curve {
            let examples = train.prefix(8).map(\.evalCase)
            let format = try? exampleFormat(bestRevision)
            let block = (try? format.map { try FewShot.render(examples, format: $0) }) ?? nil
            let tokensPerExample =
                (bestFewShot.map {
                    ($0.promptTokens - zeroRung.promptTokens) / Double(max(1, Workspace.shots($0.kind)))
                })
                ?? Double(block?.count ?? 200) / 4 / Double(max(1, examples.count))
            let rung = DecisionRules.projectFineTuning(
                curve: curve, trainSize: train.count, zeroShot: zeroRung, bestFewShot: bestFewShot,
                tokensPerExample: max(1, tokensPerExample),
                secondsPerPromptToken: try serverTimings(best.run)?.secondsPerPromptToken,
                costUSD: options.fineTuneCostUSD)
            rungs.append(rung)
            report["fine_tuning"] = fineTuningJSON(
                rung, measured: false, zeroShot: zeroRung, bestFewShot: bestFewShot, cost: cost, trainSize: train.count)
        } else {
            report["fine_tuning"] = [
                "skipped": "projecting it needs the few-shot learning curve, which could not be measured"
            ]
        }

        // 5. The recommendation.
        let recommendation = DecisionRules.recommend(
            rungs, target: options.target, cost: cost, curve: curve, trainSize: train.count, maxShots: maxFit)
        report["rungs"] = .array(
            rungs.map { rung in
                [
                    "label": .string(rung.label), "score": .number(rung.interval.estimate),
                    "low": .number(rung.interval.lower), "high": .number(rung.interval.upper),
                    "measured": .bool(rung.measured), "prompt_tokens": .number(rung.promptTokens),
                    "completion_tokens": .number(rung.completionTokens), "latency_s": .number(rung.latencySeconds),
                    "per_request": .number(cost.perRequest(rung)),
                    "total": cost.total(rung).map { .number($0) } ?? .null,
                    "one_off": cost.oneOff(rung).map { $0 > 0 ? .number($0) : .null } ?? "unknown",
                    "labeled_examples": .number(Double(rung.labeledExamples)),
                    "runs": .array(rung.runs.map { .number(Double($0)) }),
                ]
            })
        if let recommendation {
            report["recommendation"] = [
                "verdict": .string(recommendation.verdict.rawValue), "rung": .string(recommendation.chosen.label),
                "score": .number(recommendation.chosen.interval.estimate),
                "low": .number(recommendation.chosen.interval.lower),
                "high": .number(recommendation.chosen.interval.upper),
                "reasons": .array(recommendation.reasons.map { .string($0) }),
                "next": .array(recommendation.next.map { .string($0) }),
            ]
        }
        let elapsed = started.duration(to: .now)
        report["elapsed_seconds"] = .number(
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let template = try template(named: options.template)
        let id = try store.insertAdvice(
            templateID: template.id, evalsetID: evalset.record.id, params: options.json, report: .object(report))
        report["id"] = .number(Double(id))
        return .object(report)
    }

    /// The stored advice `id` (or the newest), as `advise` returned it.
    public func advice(id: Int?) throws -> JSONValue {
        let record = try id.map { try store.advice(id: $0) } ?? store.latestAdvice()
        guard let record else {
            throw UsageError(
                id.map { "there is no advice \($0)" } ?? "there is no advice yet; pwb advise TEMPLATE makes some")
        }
        var report = record.report.objectValue ?? [:]
        report["id"] = .number(Double(record.id))
        report["created_at"] = .string(record.createdAt)
        return .object(report)
    }

    private func fineTuningJSON(
        _ rung: Rung, measured: Bool, zeroShot: Rung, bestFewShot: Rung?, cost: CostModel, trainSize: Int
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "label": .string(rung.label), "measured": .bool(measured), "score": .number(rung.interval.estimate),
            "low": .number(rung.interval.lower), "high": .number(rung.interval.upper),
            "train_cases": .number(Double(trainSize)),
        ]
        if let oneOffUSD = rung.oneOffUSD { object["one_off_usd"] = .number(oneOffUSD) }
        if let seconds = rung.oneOffSeconds { object["one_off_seconds"] = .number(seconds) }
        if trainSize < 50 {
            object["warning"] = .string(
                "\(trainSize) train cases is below the 50–100 examples with which OpenAI's guidance expects clear gains"
            )
        }
        if let fewShot = bestFewShot {
            let saved = fewShot.promptTokens - rung.promptTokens
            object["compared_with"] = .string(fewShot.label)
            object["tokens_saved_per_request"] = .number(saved)
            let saving = cost.perRequest(fewShot) - cost.perRequest(rung)
            object["saving_per_request"] = .number(saving)
            if let oneOff = cost.oneOff(rung), oneOff > 0,
                let breakEven = CostModel.breakEven(oneOff: oneOff, savingPerRequest: saving)
            {
                object["break_even_requests"] = .number(breakEven)
                if let volume = cost.volumePerMonth, volume > 0 {
                    object["break_even_months"] = .number(breakEven / volume)
                }
            }
        }
        return .object(object)
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

    /// The interval of the mean over several draws, with the case as the unit: each case's score
    /// averaged over the draws, then a Wilson interval over the cases for pass/fail scores (a
    /// case right in two draws of three counts two thirds), a bootstrap over cases otherwise.
    static func pooledInterval(_ draws: [RunReport], seed: UInt64) -> Interval {
        if draws.count == 1, let interval = draws[0].headline?.interval { return interval }
        var sums: [Int: (Double, Int)] = [:]
        for draw in draws {
            for (caseID, score) in draw.perCase {
                sums[caseID, default: (0, 0)].0 += score
                sums[caseID, default: (0, 0)].1 += 1
            }
        }
        let means = sums.keys.sorted().map { sums[$0]!.0 / Double(sums[$0]!.1) }
        if draws.allSatisfy(\.isPassFail) {
            return Statistics.wilson(successes: means.reduce(0, +), trials: means.count)
        }
        return Statistics.bootstrapMean(means, seed: seed)
    }

    static func shots(_ kind: Rung.Kind) -> Int {
        if case .fewShot(let k, _) = kind { return k }
        return 0
    }

    /// A rung from a run. Its local cost per request is the compute the server reports spending
    /// (prompt processing and generation, so a cached prompt prefix counts as the saving it is),
    /// or the median latency when the server reports no timings.
    func rung(_ run: RunReport, kind: Rung.Kind, label: String) throws -> Rung {
        Rung(
            kind: kind, label: label,
            interval: run.headline?.interval ?? Interval(estimate: 0, lower: 0, upper: 0),
            promptTokens: run.meanPromptTokens ?? 0, completionTokens: run.meanCompletionTokens ?? 0,
            latencySeconds: try serverTimings(run.run)?.secondsPerAnswer ?? (run.latencyP50 ?? 0) / 1000,
            runs: [run.run.id])
    }

    /// What a run's server reported spending on its answers (llama.cpp's timings): the mean
    /// compute per answer, and the prompt-processing time per token. Nil without timings.
    func serverTimings(_ run: RunRecord) throws -> (secondsPerAnswer: Double, secondsPerPromptToken: Double?)? {
        var total = 0.0
        var answers = 0
        var promptMilliseconds = 0.0
        var promptTokens = 0.0
        try store.forEachResult(runID: run.id) { result in
            guard let key = result.responseKey, let timings = try store.cachedResponse(key: key)?.timings,
                let prompt = timings["prompt_ms"]?.doubleValue, let generation = timings["predicted_ms"]?.doubleValue
            else { return }
            total += prompt + generation
            answers += 1
            if let tokens = timings["prompt_n"]?.doubleValue, tokens > 0 {
                promptMilliseconds += prompt
                promptTokens += tokens
            }
        }
        guard answers > 0 else { return nil }
        return (total / Double(answers) / 1000, promptTokens > 0 ? promptMilliseconds / 1000 / promptTokens : nil)
    }

    static func rungSummary(_ run: RunReport) -> JSONValue {
        [
            "variant": .string(run.variant), "run": .number(Double(run.run.id)),
            "strategy": .string(run.strategy.label),
            "score": .number(run.headline?.interval.estimate ?? 0), "low": .number(run.headline?.interval.lower ?? 0),
            "high": .number(run.headline?.interval.upper ?? 0), "n": .number(Double(run.headline?.count ?? 0)),
            "errors": .number(Double(run.errors)),
            "prompt_tokens": run.meanPromptTokens.map { .number($0) } ?? .null,
            "latency_p50_ms": run.latencyP50.map { .number($0) } ?? .null,
            "cached_share": .number(run.cachedShare),
        ]
    }
}

extension EvalOptions {
    func with(_ configure: (inout EvalOptions) -> Void) -> EvalOptions {
        var copy = self
        configure(&copy)
        return copy
    }
}
