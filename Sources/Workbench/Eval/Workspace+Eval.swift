import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension Workspace {
    /// Scores every chosen variant with every chosen model on the eval set's split, storing each
    /// result as it arrives, and returns the report.
    ///
    /// Everything that can be checked is checked before the first request: names, variables,
    /// few-shot examples, the corpus, and whether the longest prompt fits the context.
    /// - Parameters:
    ///   - notes: messages for the person (e.g. that the managed runtime was started).
    ///   - progress: called as results arrive, at most ten times a second.
    /// - Throws: `EvalInterrupted` when stopped or when the runtime went away; the runs are
    ///   stored and resumable.
    package func evaluate(
        _ options: EvalOptions, environment: [String: String], stop: StopRequest? = nil,
        notes: (Message) -> Void = { _ in }, progress: ((EvalProgress) -> Void)? = nil
    ) async throws -> EvalReport {
        try await evaluate([options], environment: environment, stop: stop, notes: notes, progress: progress)[0]
    }

    /// Scores several evaluations at once, as `evaluate` scores one, each stored as its own batch
    /// of runs: their requests share the server's slots, one run's cases to a lane (`LaneSchedule`;
    /// similar-example runs at several k share one, `EvalExecution.cacheGroups`), so both slots
    /// stay busy and each keeps its prompts' prefix, and no slot idles while another finishes a
    /// run's last case. They must score the same eval set with the same cache
    /// setting and seed; the first's concurrency bounds them all.
    /// - Returns: the report of each, in the order asked.
    /// - Throws: `EvalInterrupted` (naming the interrupted runs of every evaluation) when stopped.
    func evaluate(
        _ list: [EvalOptions], environment: [String: String], stop: StopRequest? = nil,
        notes: (Message) -> Void = { _ in }, progress: ((EvalProgress) -> Void)? = nil
    ) async throws -> [EvalReport] {
        var prepared: [PreparedEvaluation] = []
        defer { withExtendedLifetime(prepared) {} }
        var connected: [ModelChoice: ConnectedModel] = [:]
        do {
            for options in list {
                prepared.append(
                    try await prepare(
                        options, environment: environment, stop: stop, notes: notes, connected: &connected))
            }
        } catch {
            // The runs already created never started: resumable, not "running".
            for run in prepared.flatMap(\.planned) { try? store.setRunStatus(run.record.id, .interrupted) }
            throw error
        }
        guard let first = prepared.first else { return [] }
        guard
            prepared.allSatisfy({
                $0.evalset.record.id == first.evalset.record.id && $0.options.useCache == first.options.useCache
                    && $0.options.seed == first.options.seed
            })
        else {
            preconditionFailure("evaluations scored together share their eval set, cache setting and seed")
        }
        // One execution over every run: each evaluation's work follows the last's, its runs renumbered.
        var planned: [PlannedRun] = []
        var work = WorkList()
        for evaluation in prepared {
            work.append(evaluation.work, runsFrom: planned.count)
            planned += evaluation.planned
        }
        let outcome = try await execute(
            planned, work: work, evalset: first.evalset, options: first.options,
            concurrency: first.concurrency, stop: stop, notes: notes, progress: progress)
        var reports: [EvalReport] = []
        var interrupted: [EvalInterrupted] = []
        for evaluation in prepared {
            do {
                reports.append(try conclude(evaluation.planned, outage: outcome))
            } catch let error as EvalInterrupted {
                interrupted.append(error)
                reports.append(error.report)
            }
        }
        if var stopped = interrupted.first {
            stopped.runs = interrupted.flatMap(\.runs)
            throw stopped
        }
        return reports
    }

    /// An evaluation checked and planned, its runs created and its batch held.
    private struct PreparedEvaluation {
        var options: EvalOptions
        var planned: [PlannedRun]
        var work: WorkList
        var evalset: LoadedEvalSet
        var concurrency: Int
        var lease: RunLease
    }

    /// Checks `options`, connects its models and creates its runs: everything before the first request.
    /// - Parameter connected: the models connected so far, by choice; one it connects is added.
    /// - Throws: `CancellationError` when `stop` is requested while the cases are checked.
    private func prepare(
        _ options: EvalOptions, environment: [String: String], stop: StopRequest?, notes: (Message) -> Void,
        connected: inout [ModelChoice: ConnectedModel]
    ) async throws -> PreparedEvaluation {
        let revisions = try revisions(for: options)
        let evalset = try library.evalset(named: try evalsetName(for: options, revisions: revisions))
        var plan = try store.caseRowIDs(evalsetID: evalset.record.id, split: options.split)
        guard !plan.isEmpty else {
            throw Refusal(
                "eval set \(evalset.name) has no \(options.split.rawValue) cases; choose another \(setting: "split")")
        }
        if let limit = options.limit { plan = Array(plan.prefix(limit)) }
        if options.reader.readsLabels {
            _ = try OneTokenLabels.labelScorer(evalset.settings.scorers, evalset: evalset.name, reader: options.reader)
        }
        let strategy = options.strategy
        if strategy.shots > 0 && options.split == .train {
            throw Refusal(
                "examples come from the train split, so \(setting: "shots") cannot score it; score dev or test (\(setting: "split"))"
            )
        }
        let train = strategy.shots > 0 ? try store.cases(evalsetID: evalset.record.id, split: .train) : []
        if strategy.shots > 0 {
            guard train.count >= strategy.shots else {
                throw Refusal(
                    "\(setting: "shots") \(strategy.shots) asks for more examples than the \(train.count) train cases of eval set \(evalset.name)"
                )
            }
            try checkVariables(revisions, cases: train, evalset: evalset.name, examples: true)
        }
        if let corpusName = strategy.corpus {
            guard try store.passageCount(corpusID: try library.corpus(named: corpusName).id) > 0 else {
                throw Refusal(
                    "corpus \(corpusName) is empty; add documents with \(command: "corpus add \(corpusName) PATH…")")
            }
            for revision in revisions where !revision.file.body.variables.contains(TemplateBody.contextSlot) {
                throw Refusal(
                    "\(revision.reference) has no {{context}} slot for retrieved passages; add one to its body")
            }
        }
        let adapter = try options.adapter.map { try self.adapter(named: $0) }
        // Every case is checked, a part at a time; the first and the longest are kept for the
        // checks that ask the server.
        var firstCase: StoredCase?
        var longest: [(stored: StoredCase, length: Int)] = []
        try forEachCasePart(plan, stop: stop) { cases in
            firstCase = firstCase ?? cases.first
            try checkVariables(revisions, cases: cases, evalset: evalset.name, part: cases.count < plan.count)
            if let adapter { try checkNotTaught(adapter, cases: cases, split: options.split, evalset: evalset) }
            longest = Array(
                (longest + cases.map { ($0, $0.evalCase.textVars.values.reduce(0) { $0 + $1.utf8.count }) })
                    .sorted { $0.length > $1.length }.prefix(3))
        }
        guard let firstCase else { throw Refusal("eval set \(evalset.name) changed while it was read; try again") }
        let shared = try revisions.map {
            try library.sharedExamples($0, strategy: strategy, train: train, seed: options.seed)
        }
        var models: [ConnectedModel] = []
        for choice in options.models {
            let choice = try runtime.choice(choice, applying: adapter, environment: environment)
            models.append(try await model(choice, connected: &connected, environment: environment, notes: notes))
        }
        let concurrency =
            options.concurrency ?? max(1, models.map { $0.properties.slots ?? 4 }.reduce(0, +) / max(1, models.count))
        let batch = String(UUID().uuidString.prefix(8)).lowercased()
        // Plan first (nothing stored yet), check the prompts fit, then create the runs together.
        var planned: [PlannedRun] = []
        for (revisionIndex, revision) in revisions.enumerated() {
            for model in models {
                var params = RunParameters()
                params.repeats = options.repeats
                params.seed = options.seed
                params.useCache = options.useCache
                params.concurrency = concurrency
                params.modelName = model.name
                params.identityBasis = model.identityBasis
                params.scorers = evalset.settings.scorers.map(\.json)
                params.limit = options.limit
                params.adapter = adapter?.name
                params.reader = options.reader
                params.sharedExamples = shared[revisionIndex]
                let record = RunRecord(
                    id: 0, batch: batch, templateID: revision.template.id, revisionID: revision.revision.id,
                    evalsetID: evalset.record.id, split: options.split, provider: model.client.kind.rawValue,
                    model: model.identity, params: params, strategy: strategy, plan: plan,
                    status: .running, summary: nil, createdAt: "", finishedAt: nil)
                planned.append(PlannedRun(record: record, revision: revision, model: model))
            }
        }
        if options.reader == .oneToken {
            let tokens = try await oneTokenReading(
                planned, case: firstCase, evalset: evalset, seed: options.seed, notes: notes)
            for index in planned.indices { planned[index].record.params.readTokens = tokens }
        }
        try await checkPromptsFit(planned, longest: longest.map(\.stored), evalset: evalset, seed: options.seed)
        try store.transaction {
            for index in planned.indices {
                planned[index].record = try store.createRun(planned[index].record)
            }
        }
        let lease = try RunLease(storePath: storePath, batch: batch, runID: planned[0].record.id)
        let work = WorkList(segments: [.plan(runs: planned.indices, plan: plan, samples: options.repeats)])
        return PreparedEvaluation(
            options: options, planned: planned, work: work, evalset: evalset, concurrency: concurrency, lease: lease)
    }

    /// Completes the unfinished runs of `runID`'s batch without redoing finished cases; the
    /// requests that failed (no answer) are tried again.
    /// - Parameter retryErrors: also try again the answers no scorer could grade.
    package func resume(
        runID: Int, retryErrors: Bool = false, concurrency: Int? = nil, environment: [String: String],
        stop: StopRequest? = nil, notes: (Message) -> Void = { _ in }, progress: ((EvalProgress) -> Void)? = nil
    ) async throws -> EvalReport {
        let batchID = try run(id: runID).batch
        // Held until this call returns, so a second process resuming the same runs is refused.
        let lease = try RunLease(storePath: storePath, batch: batchID, runID: runID)
        defer { withExtendedLifetime(lease) {} }
        let batch = try store.runs(batch: batchID)
        let unfinished = batch.filter { $0.status != .completed || retryErrors }
        guard !unfinished.isEmpty else {
            throw Refusal(
                "the evaluation of run \(runID) is complete; there is nothing to resume (\(command: "runs show \(runID)"))"
            )
        }
        let evalset = try evalset(id: batch[0].evalsetID)
        var connected: [ModelChoice: ConnectedModel] = [:]
        var planned: [PlannedRun] = []
        for record in unfinished {
            let adapter = try record.params.adapter.map { try self.adapter(named: $0) }
            let choice = try runtime.choice(
                ModelChoice(record.params.modelName), applying: adapter, environment: environment)
            let model = try await model(choice, connected: &connected, environment: environment, notes: notes)
            // A run stored before identities had a content fingerprint resumes with the same file name.
            guard model.identity == record.model || model.identity.hasPrefix(record.model + "#") else {
                throw Refusal(
                    "run \(record.id) was made with \(record.model), but the model answering now is \(model.identity); resume needs the same model"
                )
            }
            planned.append(
                PlannedRun(record: record, revision: try library.resolve(revisionID: record.revisionID), model: model))
        }
        var items: [WorkItem] = []
        for (index, run) in planned.enumerated() {
            try store.deleteErrorResults(runID: run.record.id, failedRequestsOnly: !retryErrors)
            let finished = try store.finishedItems(runID: run.record.id)
            for caseID in run.record.plan {
                for sample in 0..<run.record.samples where !finished.contains([caseID, sample]) {
                    items.append(WorkItem(run: index, caseID: caseID, sample: sample))
                }
            }
        }
        // Case-major order, as the first pass made them, so the variants stay paired.
        let position = Dictionary(uniqueKeysWithValues: planned[0].record.plan.enumerated().map { ($1, $0) })
        items.sort { (position[$0.caseID] ?? 0, $0.run, $0.sample) < (position[$1.caseID] ?? 0, $1.run, $1.sample) }
        var options = EvalOptions(template: planned[0].revision.template.name)
        options.useCache = planned[0].record.params.useCache
        options.seed = planned[0].record.params.seed
        let chosenConcurrency = concurrency ?? planned[0].record.params.concurrency
        for run in planned { try store.setRunStatus(run.record.id, .running) }
        let outage = try await execute(
            planned, work: WorkList(segments: [.items(items)]), evalset: evalset, options: options,
            concurrency: chosenConcurrency,
            stop: stop, notes: notes, progress: progress)
        return try conclude(planned, outage: outage, allRuns: batch)
    }

    /// The model `choice` names, connected once however many runs ask for it: runs scored together
    /// share one client per model, so their requests can name its slots.
    /// - Parameter connected: the models connected so far; one connected now is added.
    private func model(
        _ choice: ModelChoice, connected: inout [ModelChoice: ConnectedModel], environment: [String: String],
        notes: (Message) -> Void
    ) async throws -> ConnectedModel {
        if let model = connected[choice] { return model }
        let model = try await runtime.connect(choice, environment: environment)
        if let started = model.startedRuntime { notes(Workspace.startedNote(started)) }
        connected[choice] = model
        return model
    }

    /// Runs the items; returns the runtime outage that stopped them early, if one did.
    private func execute(
        _ planned: [PlannedRun], work: WorkList, evalset: LoadedEvalSet, options: EvalOptions, concurrency: Int,
        stop: StopRequest?, notes: (Message) -> Void,
        progress: ((EvalProgress) -> Void)?
    ) async throws -> RuntimeUnavailable? {
        let execution = EvalExecution(
            library: library, runs: planned, evalset: evalset, useCache: options.useCache,
            concurrency: concurrency, seed: options.seed, stop: stop, progress: progress)
        defer {
            if execution.askedAgain > 0 { notes(Workspace.adaptersUnknownNote(execution.askedAgain)) }
        }
        do {
            return try await execution.execute(work)
        } catch is CancellationError {
            // Abandoned with a second Ctrl-C: what finished is stored; the runs are marked after.
            return nil
        } catch {
            // Anything else (the store failing, say): the runs stay resumable, not "running".
            for run in planned { try? store.setRunStatus(run.record.id, .interrupted) }
            throw error
        }
    }

    /// Marks each run completed or interrupted and builds the report (of `allRuns` when given:
    /// a resumed batch's finished runs too).
    /// - Throws: `EvalInterrupted` when a run has cases left.
    private func conclude(_ planned: [PlannedRun], outage: RuntimeUnavailable?, allRuns: [RunRecord]? = nil) throws
        -> EvalReport
    {
        var complete = true
        var summaries: [Int: RunReport] = [:]
        for run in planned {
            var summary = try runReport(run.record)
            if summary.scored + summary.errors >= summary.planned && summary.failedRequests > 0 {
                // Every case was tried, but some requests got no answer: the run is not complete
                // (its score covers only the answered cases) and --resume retries them.
                summary.run.status = .interrupted
                try store.setRunStatus(run.record.id, .interrupted, summary: summary.json)
            } else if summary.scored + summary.errors >= summary.planned {
                summary.run.status = .completed
                try store.setRunStatus(run.record.id, .completed, summary: summary.json)
            } else {
                complete = false
                summary.run.status = .interrupted
                try store.setRunStatus(run.record.id, .interrupted)
            }
            summaries[run.record.id] = summary
        }
        let report = try report(
            of: try (allRuns ?? planned.map(\.record)).map {
                try summaries[$0.id] ?? runReport(try self.run(id: $0.id))
            })
        if !complete {
            let reason: EvalInterrupted.Reason = outage.map { .runtimeUnavailable($0) } ?? .stopped
            throw EvalInterrupted(runs: planned.map(\.record.id), reason: reason, report: report)
        }
        return report
    }

    /// Refuses, before anything is sent, a plan whose longest prompt cannot fit the context.
    /// - Parameter longest: the cases whose variables are longest (by UTF-8 bytes).
    private func checkPromptsFit(_ planned: [PlannedRun], longest: [StoredCase], evalset: LoadedEvalSet, seed: Int)
        async throws
    {
        for run in planned {
            guard let contextSize = run.model.properties.contextSize else { continue }
            for stored in longest {
                let request = try library.request(run, case: stored, evalset: evalset, sample: 0, seed: seed)
                do {
                    try await run.model.client.checkFits(request, contextSize: contextSize)
                } catch ModelError.promptTooLong(let tokens, let maxTokens, let context, _) {
                    throw InputError(
                        file: run.revision.reference,
                        "with case \(stored.evalCase.id) (\(run.strategy.label)) the prompt is \(tokens) tokens and \(maxTokens) more are asked for, but the context holds \(context); use fewer examples or passages, a shorter template, or a larger \(setting: "context")"
                    )
                }
            }
        }
    }

    /// The tokens a one-token request of these runs generates: the answering token, after the
    /// whitespace-only tokens the labels' answers begin with (" 返品" is a space, then 返品).
    /// Refuses, before anything is scored, labels whose answers begin with the same answering
    /// token (by the server's tokenizer), and a server that gives no log-probabilities to read
    /// them from. A server without a tokenizer is asked one case's answer instead (kept in the
    /// response cache), reading past one whitespace-only token.
    private func oneTokenReading(
        _ planned: [PlannedRun], case first: StoredCase, evalset: LoadedEvalSet, seed: Int, notes: (Message) -> Void
    ) async throws -> Int {
        let spec = try OneTokenLabels.labelScorer(evalset.settings.scorers, evalset: evalset.name, reader: .oneToken)
        var lead = 0
        var checked = Set<String>()
        func refuse(_ why: Message) -> Refusal {
            Refusal("\(why); score with another \(setting: "reader") (generate, or choice)")
        }
        for var run in planned {
            let model = run.model
            var prompt: String?
            if case .text(let text) = try library.request(run, case: first, evalset: evalset, sample: 0, seed: seed)
                .prompt
            {
                prompt = text
            }
            let texts = spec.labels.map { OneTokenLabels.answerText($0, afterPrompt: prompt) }
            guard checked.insert("\(ObjectIdentifier(model.client))\u{0}\(texts.joined(separator: "\u{0}"))").inserted
            else { continue }
            var answering: [(label: String, id: Int, piece: String)] = []
            var tokenized = true
            for (label, text) in zip(spec.labels, texts) {
                guard let tokens = try await model.client.tokenize(text) else {
                    tokenized = false
                    break
                }
                guard let index = OneTokenLabels.answeringIndex(tokens.map(\.piece)) else { continue }
                lead = max(lead, index)
                answering.append((label, tokens[index].id, tokens[index].piece))
            }
            if tokenized {
                if let (a, b, piece) = OneTokenLabels.sharedFirstToken(answering) {
                    throw refuse(
                        "labels \"\(a)\" and \"\(b)\" of eval set \(evalset.name) begin with the same token (\"\(piece)\") for \(model.name), so one token cannot tell them apart"
                    )
                }
                continue
            }
            // No tokenizer to ask (OpenAI-compatible, Ollama): whether the server gives
            // log-probabilities at all is seen in one answer.
            lead = max(lead, 1)
            run.record.params.readTokens = OneTokenLabels.maxTokens(lead: nil)
            let request = try library.request(run, case: first, evalset: evalset, sample: 0, seed: seed)
            let answer = try await model.client.complete(request)
            guard let logprobs = answer.logprobs, !logprobs.isEmpty else {
                throw refuse(
                    "\(setting: "reader") one-token scores labels from log-probabilities, but \(model.name) (\(model.client.kind.rawValue) at \(model.client.endpoints[0])) returned none"
                )
            }
            let key = CacheKey.make(
                provider: model.client.kind.rawValue, model: model.identity, request: request, sample: 0)
            try store.storeResponse(
                CachedResponse(answer, key: key), provider: model.client.kind.rawValue, model: model.identity,
                request: request.canonicalJSON)
            notes(
                "pwb: \(model.name)'s server has no tokenizer to ask, so whether its labels begin with different tokens is not checked"
            )
        }
        return OneTokenLabels.maxTokens(lead: lead)
    }

    /// Cached answers that are asked again because the server may have answered them with LoRA
    /// adapters applied (`Schema.version4`).
    static func adaptersUnknownNote(_ count: Int) -> Message {
        "pwb: \(count) cached answer\(count == 1 ? " was" : "s were") stored while LoRA adapters were loaded on the managed runtime, before each request stated every adapter's scale and the server's prompt cache was kept apart from them, so \(count == 1 ? "it may have been computed with the wrong adapters and was" : "they may have been computed with the wrong adapters and were") asked again"
    }

    package static func startedNote(_ info: RuntimeInfo) -> Message {
        "pwb: started llama-server (pid \(info.pid)) on 127.0.0.1:\(info.port) with \((info.model as NSString).lastPathComponent); it keeps running, \(command: "runtime stop") ends it"
    }
}
