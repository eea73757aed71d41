import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// What the ladder's steps share while it is climbed: the options, the eval set, the rungs
/// measured so far (each with the evaluations that scored it, so more cases can be scored for it
/// later), and how to score a rung with the same engine as `pwb eval`.
final class AdviceContext {
    let workspace: Workspace
    let options: AdviceOptions
    let environment: [String: String]
    let stop: StopRequest?
    let notes: (Message) -> Void
    let progress: ((AdviceProgress) -> Void)?
    /// Every evaluation of the ladder starts from this one: the eval set, the dev cases per rung,
    /// the model, the seed, the reader.
    var base: EvalOptions
    let evalset: LoadedEvalSet
    let devCases: Int
    let train: [StoredCase]
    let seed: UInt64

    /// The rungs measured so far, and for each the evaluations behind it.
    private(set) var rungs: [Rung] = []
    private(set) var rungOptions: [EvalOptions] = []
    /// Every run of the prompting ladder: the server's speeds are measured over all of them.
    var ladderRuns: [Int] = []
    /// Rungs served elsewhere, already costed at their own server's speeds.
    var ownSpeeds = Set<Int>()

    /// Set by the zero-shot step: its report, its best run and that run's revision, pinned by
    /// number (`variant@N`) for every later step.
    var zeroShot: EvalReport?
    var best: RunReport?
    var bestRevision: ResolvedRevision?
    var pinned: [String] = []
    /// What a trivial answer scores (label tasks): chance, or always the majority label.
    var baseline: Advice.Baseline?
    /// The few-shot learning curve's points: k and each case's mean score over the random draws.
    var curveSeries: [(k: Int, perCase: [Int: Double])] = []

    init(
        workspace: Workspace, options: AdviceOptions, base: EvalOptions, evalset: LoadedEvalSet, devCases: Int,
        train: [StoredCase], environment: [String: String], stop: StopRequest?, notes: @escaping (Message) -> Void,
        progress: ((AdviceProgress) -> Void)?
    ) {
        self.workspace = workspace
        self.options = options
        self.base = base
        self.evalset = evalset
        self.devCases = devCases
        self.train = train
        self.environment = environment
        self.stop = stop
        self.notes = notes
        self.progress = progress
        self.seed = UInt64(options.seed) &+ 1
    }

    var cost: CostModel { CostModel(prices: options.prices, volumePerMonth: options.volumePerMonth) }

    /// One evaluation, `label` naming it in the progress line and in an error.
    func run(_ label: String, _ configure: (inout EvalOptions) -> Void) async throws -> EvalReport {
        try await runTogether(label, [(label, base.with(configure))])[0]
    }

    /// Independent evaluations scored side by side (`Workspace.evaluate` of several): `label`
    /// names them in the progress line, each its own in an error. A rung scored only on the cases
    /// that got an answer would be judged on other cases than the rest of the ladder (and long
    /// prompts fail more often), so one whose requests did not all get an answer stops the advice.
    func runTogether(_ label: String, _ evaluations: [(label: String, options: EvalOptions)]) async throws
        -> [EvalReport]
    {
        let reports = try await workspace.evaluate(
            evaluations.map(\.options), environment: environment, stop: stop, notes: notes,
            progress: progress.map { callback in { callback(AdviceProgress(rung: label, eval: $0)) } })
        for (evaluation, report) in zip(evaluations, reports) {
            if let unanswered = try workspace.unansweredRequests(in: report) {
                throw IncompleteRung(
                    rung: evaluation.label, failed: unanswered.failed, planned: unanswered.planned,
                    firstError: unanswered.error, cause: unanswered.cause)
            }
        }
        return reports
    }

    /// Adds a rung scored by `run` (made with `options`), unless it has no score at all; returns
    /// its index.
    @discardableResult
    func add(_ rung: Rung, options: EvalOptions) -> Int? {
        guard rung.cases > 0 else { return nil }
        rungs.append(rung)
        rungOptions.append(options)
        return rungs.count - 1
    }

    /// Replaces the rungs (costed at the ladder's speeds, or rescored after a follow-up round).
    func update(_ change: (inout [Rung]) throws -> Void) rethrows {
        try change(&rungs)
    }

    /// A rung from a run. Its compute is its median latency until `Rung.costed(at:)` reckons it at
    /// the ladder's speeds, which a server whose answers carry no token counts never gives.
    func rung(_ run: RunReport, kind: Rung.Kind, label: String, shipping: Shipping? = nil) throws -> Rung {
        var rung = Rung(
            kind: kind, label: label, outcomes: Outcomes(run.perCase, passFail: run.isPassFail),
            promptTokens: run.meanPromptTokens ?? 0, completionTokens: run.meanCompletionTokens ?? 0,
            computeSeconds: (run.latencyP50 ?? 0) / 1000, runs: [run.run.id], seed: seed)
        rung.promptTokensRead = try workspace.meanPromptTokensRead(run.run.id)
        rung.shipping = shipping
        return rung
    }

    static func summary(_ run: RunReport) -> RunSummary {
        RunSummary(
            run: run.run.id, variant: run.variant, strategy: run.strategy.label,
            interval: run.headline?.interval ?? Interval(estimate: 0, lower: 0, upper: 1), cases: run.perCase.count,
            errors: run.errors, promptTokens: run.meanPromptTokens, latencyP50Milliseconds: run.latencyP50,
            cachedShare: run.cachedShare)
    }
}

/// One step of the ladder: it measures its rungs into the shared context (`AdviceContext.add`)
/// and says what it found. A new kind of rung is a type conforming to this, listed in
/// `Workspace.ladder`, and its case of `AdviceStep` with its rendering.
protocol LadderStep {
    func climb(_ context: AdviceContext) async throws -> AdviceStep
}
