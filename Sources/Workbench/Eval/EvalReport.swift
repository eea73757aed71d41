import Foundation
import WorkbenchCore
import WorkbenchStore

/// One run's results, summarized: what a row of the eval table shows.
package struct RunReport: Sendable {
    package var run: RunRecord
    /// `template/variant@N`
    package var reference: String
    package var variant: String
    package var modelName: String
    package var strategy: Strategy
    /// How the answers were read.
    package var reader: Reader { run.params.reader }
    /// One summary per scorer, the headline first.
    package var scorers: [ScorerSummary]
    package var planned: Int
    package var scored: Int
    package var errors: Int
    /// The errors that are requests the model server did not answer (as opposed to answers no
    /// scorer could grade): while there are any, the run is incomplete and `--resume` retries them.
    package var failedRequests: Int = 0
    package var meanPromptTokens: Double?
    package var meanCompletionTokens: Double?
    package var latencyP50: Double?
    package var latencyP95: Double?
    package var cachedShare: Double
    /// Total model time of the answers (their latencies), in seconds: what the run cost locally.
    package var computeSeconds: Double
    /// The headline score of each case (mean over samples), by case row id, for paired tests.
    package var perCase: [Int: Double]
    package var isPassFail: Bool

    package var headline: ScorerSummary? { scorers.first }

    package var json: JSONValue {
        [
            "run": .number(Double(run.id)), "revision": .string(reference), "variant": .string(variant),
            "model": .string(modelName), "model_identity": .string(run.model), "strategy": strategy.json,
            "strategy_label": .string(strategy.label), "reader": .string(reader.rawValue),
            "status": .string(run.status.rawValue),
            "planned": .number(Double(planned)), "scored": .number(Double(scored)), "errors": .number(Double(errors)),
            "failed_requests": .number(Double(failedRequests)), "scorers": .array(scorers.map(\.json)),
            "mean_prompt_tokens": meanPromptTokens.map { .number($0) } ?? .null,
            "mean_completion_tokens": meanCompletionTokens.map { .number($0) } ?? .null,
            "latency_p50_ms": latencyP50.map { .number($0) } ?? .null,
            "latency_p95_ms": latencyP95.map { .number($0) } ?? .null, "cached_share": .number(cachedShare),
            "compute_seconds": .number(computeSeconds),
        ]
    }
}

extension RunRecord {
    /// The headline score of the summary stored with the run (`RunReport.json`), once it has one.
    package var headlineScore: Double? { summary?["scorers"]?.arrayValue?.first?["score"]?.doubleValue }
}

/// The runs of one evaluation side by side, the best named, and paired verdicts against it.
package struct EvalReport: Sendable {
    package var batch: String
    package var evalset: String
    package var split: String
    package var runs: [RunReport]
    /// The run with the highest headline score.
    package var best: Int?
    /// The best run compared with each other run, Holm-adjusted together: (other run index, comparison).
    package var comparisons: [(other: Int, comparison: Comparison)]

    package var json: JSONValue {
        [
            "batch": .string(batch), "evalset": .string(evalset), "split": .string(split),
            "runs": .array(runs.map(\.json)), "best_run": best.map { .number(Double(runs[$0].run.id)) } ?? .null,
            "comparisons": .array(
                comparisons.map { other, comparison in
                    var object = comparison.json.objectValue ?? [:]
                    object["best_run"] = .number(Double(runs[best!].run.id))
                    object["other_run"] = .number(Double(runs[other].run.id))
                    return .object(object)
                }),
        ]
    }
}

extension Workspace {
    /// Summarizes a stored run from its results.
    package func runReport(_ run: RunRecord) throws -> RunReport {
        let evalset = try evalset(id: run.evalsetID)
        // The cases answered, not every case planned: a run stopped early reads what it scored.
        let cases = try store.cases(rowIDs: try store.caseIDsWithResults(runID: run.id))
        let revision = try store.revision(id: run.revisionID)!
        let variant = try store.variant(id: revision.variantID)!
        let template = try store.template(id: run.templateID)!
        // The scorers the run was made with: a later change to the eval set's settings does not
        // rewrite what an old run reported.
        let specs =
            try run.params.scorers?.enumerated().map { index, json in
                try ScorerSpec(parsing: json, labels: [], field: "scorers[\(index)]")
            } ?? evalset.settings.scorers
        var scoresByScorer = [[Score?]](repeating: [], count: specs.count)
        var expectedByScorer = [[JSONValue]](repeating: [], count: specs.count)
        var perCaseSums: [Int: (sum: Double, count: Int)] = [:]
        // Each scorer's per-case sums, for intervals over cases when a case has several samples.
        var perCaseByScorer = [[Int: (sum: Double, count: Int)]](repeating: [:], count: specs.count)
        var promptTokens: [Double] = []
        var completionTokens: [Double] = []
        var latencies: [Double] = []
        var errors = 0
        var failedRequests = 0
        var cached = 0
        var answered: [RunBaselines.Answered] = []
        let keepOutputs = RunBaselines.needsOutputs(specs)
        var count = 0
        try store.forEachResult(runID: run.id) { result in
            count += 1
            if result.error != nil {
                errors += 1
                if result.output == nil { failedRequests += 1 }
                return
            }
            if result.cached { cached += 1 }
            if let tokens = result.promptTokens { promptTokens.append(Double(tokens)) }
            if let tokens = result.completionTokens { completionTokens.append(Double(tokens)) }
            if let latency = result.latencyMilliseconds { latencies.append(latency) }
            let expected = cases[result.caseID]?.evalCase.expected ?? .null
            for (index, spec) in specs.enumerated() {
                let score = result.scores[ScorerNames.name(spec, index: index, in: specs)].flatMap(Score.init(json:))
                scoresByScorer[index].append(score)
                expectedByScorer[index].append(expected)
                if let score {
                    perCaseByScorer[index][result.caseID, default: (0, 0)].sum += score.value
                    perCaseByScorer[index][result.caseID, default: (0, 0)].count += 1
                }
            }
            answered.append(.init(sample: result.sample, output: keepOutputs ? result.output : nil))
            if let score = result.score {
                perCaseSums[result.caseID, default: (0, 0)].sum += score
                perCaseSums[result.caseID, default: (0, 0)].count += 1
            }
        }
        var summaries = specs.enumerated().map { index, spec in
            var summary = ScoreAggregation.summarize(
                spec: spec, scores: scoresByScorer[index], expected: expectedByScorer[index],
                seed: UInt64(truncatingIfNeeded: run.params.seed) &+ 1)
            summary.name = ScorerNames.name(spec, index: index, in: specs)
            if run.samples > 1 {
                // Several samples of a case are not independent trials: every scorer's interval
                // comes from resampling cases (each case's mean over its samples).
                let means = perCaseByScorer[index].sorted { $0.key < $1.key }.map {
                    $0.value.sum / Double($0.value.count)
                }
                summary.interval = Statistics.bootstrapMean(
                    means, seed: UInt64(truncatingIfNeeded: run.params.seed) &+ 1)
            }
            return summary
        }
        RunBaselines.attach(
            to: &summaries, specs: specs, scores: scoresByScorer, expected: expectedByScorer, answered: answered,
            cases: run.plan.compactMap { cases[$0]?.evalCase }, inputVariable: evalset.settings.input)
        let scoredResults = count - errors
        return RunReport(
            run: run, reference: "\(template.name)/\(variant.name)@\(revision.number)", variant: variant.name,
            modelName: run.params.modelName ?? run.model, strategy: run.strategy,
            scorers: summaries, planned: run.plan.count * run.samples, scored: scoredResults, errors: errors,
            failedRequests: failedRequests,
            meanPromptTokens: promptTokens.isEmpty ? nil : Statistics.mean(promptTokens),
            meanCompletionTokens: completionTokens.isEmpty ? nil : Statistics.mean(completionTokens),
            latencyP50: latencies.isEmpty ? nil : Statistics.quantile(latencies, 0.5),
            latencyP95: latencies.isEmpty ? nil : Statistics.quantile(latencies, 0.95),
            cachedShare: scoredResults > 0 ? Double(cached) / Double(scoredResults) : 0,
            computeSeconds: latencies.reduce(0, +) / 1000,
            perCase: perCaseSums.mapValues { $0.sum / Double($0.count) },
            isPassFail: (specs.first?.kind.isPassFail ?? false) && run.samples == 1)
    }

    /// The report for runs scored together: the best by headline score, compared with the rest.
    /// - Parameter midP: compare pass/fail runs with the mid-p McNemar test instead of the exact one.
    package func report(for runs: [RunRecord], midP: Bool = false) throws -> EvalReport {
        try report(of: try runs.map(runReport), midP: midP)
    }

    /// The report over run summaries already made.
    func report(of reports: [RunReport], midP: Bool = false) throws -> EvalReport {
        let runs = reports.map(\.run)
        let best = reports.indices.max { a, b in
            let x = reports[a].headline?.interval.estimate ?? -1
            let y = reports[b].headline?.interval.estimate ?? -1
            return x < y || (x == y && a > b)
        }
        var comparisons: [(Int, Comparison)] = []
        if let best {
            for index in reports.indices where index != best {
                comparisons.append(
                    (
                        index,
                        Comparisons.paired(
                            reports[best].perCase, reports[index].perCase,
                            passFail: reports[best].isPassFail && reports[index].isPassFail, midP: midP)
                    ))
            }
            let adjusted = Comparisons.adjusted(comparisons.map(\.1))
            comparisons = zip(comparisons.map(\.0), adjusted).map { ($0, $1) }
        }
        let first = runs.first
        return EvalReport(
            batch: first?.batch ?? "", evalset: try first.map { try evalset(id: $0.evalsetID).name } ?? "",
            split: first?.split.rawValue ?? "", runs: reports, best: best, comparisons: comparisons)
    }

    func evalset(id: Int) throws -> LoadedEvalSet {
        guard let record = try store.evalset(id: id) else { throw Refusal("eval set \(id) is gone") }
        return LoadedEvalSet(record: record, settings: try EvalSetSettings(parsing: record.settingsJSON))
    }

    /// The stored run `id`, or a usage error.
    package func run(id: Int) throws -> RunRecord {
        guard let run = try store.run(id: id) else {
            throw Refusal("there is no run \(id); \(command: "runs list") shows the runs")
        }
        return current(run)
    }

    /// The paired test of `run` against the stored run `baselineID` on the cases both scored.
    package func compare(_ run: RunReport, withRun baselineID: Int) throws -> Comparison {
        let baseline = try runReport(try self.run(id: baselineID))
        return Comparisons.paired(run.perCase, baseline.perCase, passFail: run.isPassFail && baseline.isPassFail)
    }

    /// The ids of a variant's completed runs, newest first.
    package func completedRuns(of reference: RevisionReference) throws -> [Int] {
        let template = try library.template(named: reference.template)
        return try store.runListings(limit: 200, templateID: template.id).filter {
            $0.variant == reference.variant && $0.run.status == .completed
        }.map(\.run.id)
    }

    /// Per-case rows of a run, for JSON and CSV exports.
    package func caseRows(_ run: RunRecord) throws -> [JSONValue] {
        let results = try store.results(runID: run.id)
        let cases = try store.cases(rowIDs: results.map(\.caseID))
        return results.map { result in
            let evalCase = cases[result.caseID]?.evalCase
            return [
                "run": .number(Double(run.id)), "case": .string(evalCase?.id ?? String(result.caseID)),
                "sample": .number(Double(result.sample)), "expected": evalCase?.expected ?? .null,
                "output": result.output.map { .string($0) } ?? .null,
                "score": result.score.map { .number($0) } ?? .null,
                "scores": result.scores, "error": result.error.map { .string($0) } ?? .null,
                "error_kind": result.errorKind.map { .string($0.rawValue) } ?? .null,
                "prompt_tokens": result.promptTokens.map { .number(Double($0)) } ?? .null,
                "completion_tokens": result.completionTokens.map { .number(Double($0)) } ?? .null,
                "latency_ms": result.latencyMilliseconds.map { .number($0) } ?? .null, "cached": .bool(result.cached),
            ]
        }
    }
}

/// Scorer names as reports show them: the kind, with `#2` for a second scorer of the same kind.
package enum ScorerNames {
    package static func name(_ spec: ScorerSpec, index: Int, in specs: [ScorerSpec]) -> String {
        let earlier = specs.prefix(index).filter { $0.kind == spec.kind }.count
        return earlier == 0 ? spec.name : "\(spec.name)#\(earlier + 1)"
    }
}
