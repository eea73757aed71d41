import Foundation
import ModelRuntime
import Synchronization
import WorkbenchCore
import WorkbenchStore

/// How far an evaluation has come, reported after every result.
package struct EvalProgress: Sendable {
    package var done: Int
    package var total: Int
    package var cached: Int
    package var errors: Int
    package var elapsed: Double
}

/// Asks a running evaluation to stop scheduling new requests; those in flight finish and are
/// kept. (Cancelling the task instead abandons them.)
package final class StopRequest: Sendable {
    private let requested = Mutex(false)

    package init() {}

    package func request() { requested.withLock { $0 = true } }

    package var isRequested: Bool { requested.withLock { $0 } }
}

/// An evaluation stopped before every case was scored; what finished is stored and resuming the
/// run (`pwb eval --resume RUN`) completes it.
package struct EvalInterrupted: Error, Sendable, CustomStringConvertible {
    package enum Reason: Sendable {
        case stopped
        case runtimeUnavailable(RuntimeUnavailable)
    }

    package var runs: [Int]
    package var reason: Reason
    package var report: EvalReport

    /// What happened and how to finish the runs, the command named for the interface to word.
    package var message: Message {
        let resume: Message = "resume with \(command: "eval --resume \(runs.first ?? 0)")"
        switch reason {
        case .stopped: return "interrupted; what finished is kept; \(resume)"
        case .runtimeUnavailable(let error): return "\(error.message); what finished is kept; \(resume)"
        }
    }

    package var description: String { message.description }
}

/// The cache key of a request: SHA-256 over the provider kind, the model's identity, the exact
/// prompt or messages, every sampling parameter (seed included) and the sample index.
package enum CacheKey {
    package static func make(provider: String, model: String, request: CompletionRequest, sample: Int) -> String {
        let material: JSONValue = [
            "v": 1, "provider": .string(provider), "model": .string(model), "request": request.canonicalJSON,
            "sample": .number(Double(sample)),
        ]
        return SHA256.hex(material.serialized())
    }
}

/// One case (and sample) of one run, waiting to be scored.
struct WorkItem {
    var run: Int
    var caseID: Int
    var sample: Int
}

/// The work items of an execution, made a part at a time: runs over a plan of cases make their
/// items as each part is reached, so a plan of any size costs its case ids, not its items.
struct WorkList {
    enum Segment {
        /// Every sample of each of `runs` on each case of `plan`, case-major.
        case plan(runs: Range<Int>, plan: [Int], samples: Int)
        /// Items one by one (what a resume has left), case-major.
        case items([WorkItem])
    }

    var segments: [Segment] = []

    var count: Int {
        segments.reduce(0) { total, segment in
            switch segment {
            case .plan(let runs, let plan, let samples): total + runs.count * plan.count * samples
            case .items(let items): total + items.count
            }
        }
    }

    /// Appends `other`'s segments, their runs numbered from `offset`.
    mutating func append(_ other: WorkList, runsFrom offset: Int) {
        for segment in other.segments {
            switch segment {
            case .plan(let runs, let plan, let samples):
                segments.append(
                    .plan(runs: (runs.lowerBound + offset)..<(runs.upperBound + offset), plan: plan, samples: samples))
            case .items(let items):
                segments.append(
                    .items(items.map { WorkItem(run: $0.run + offset, caseID: $0.caseID, sample: $0.sample) }))
            }
        }
    }

    /// Calls `body` with the items in order, `size` cases at a time (a case's items together; the
    /// last part may be smaller), until it returns false.
    func forEachPart(of size: Int, _ body: ([WorkItem]) async throws -> Bool) async throws {
        var part: [WorkItem] = []
        var cases = 0
        for segment in segments {
            switch segment {
            case .plan(let runs, let plan, let samples):
                for caseID in plan {
                    if cases == size {
                        guard try await body(part) else { return }
                        (part, cases) = ([], 0)
                    }
                    for run in runs {
                        for sample in 0..<samples { part.append(WorkItem(run: run, caseID: caseID, sample: sample)) }
                    }
                    cases += 1
                }
            case .items(let items):
                for (index, item) in items.enumerated() {
                    if index == 0 || item.caseID != items[index - 1].caseID {
                        if cases == size {
                            guard try await body(part) else { return }
                            (part, cases) = ([], 0)
                        }
                        cases += 1
                    }
                    part.append(item)
                }
            }
        }
        if !part.isEmpty { _ = try await body(part) }
    }
}

/// Scores the work items of planned runs: bounded concurrency, cache first, every result
/// stored as it arrives. Lives on the caller's actor; only model calls run in child tasks.
///
/// The items go a part at a time (`partSize` cases, `WorkList`): a part's items are made, its
/// cases read, its requests rendered and looked up in the cache, and it is scored before the next
/// is made, so memory is bounded by the part, not by the eval set, and a stop is heard between
/// parts as within one.
final class EvalExecution {
    /// Cases read, rendered and scored together.
    static let partSize = 2048

    /// Where results and cached answers are written and read.
    let store: Store
    /// What renders each case's request (its examples and passages).
    let library: Library
    let runs: [PlannedRun]
    let evalset: LoadedEvalSet
    /// The cases of the part being scored, by row id.
    private var cases: [Int: StoredCase] = [:]
    let useCache: Bool
    let concurrency: Int
    let seed: Int
    let stop: StopRequest?
    let progress: ((EvalProgress) -> Void)?
    /// Each scorer with its name in the stored scores, and what scores an answer: the scorer, or
    /// for a label scorer the one-token reading of it.
    let scorers: [(spec: ScorerSpec, name: String, scorer: any AnswerScorer)]
    /// The scorer a judge model grades for, if one does (an eval set has at most one).
    let judged: (any JudgedScorer)?

    /// Cached answers not served because their adapters are unknown, and so asked again.
    private(set) var askedAgain = 0
    private var pendingWrites: [(run: Int, result: ResultRecord)] = []
    private var done = 0
    private var cachedCount = 0
    private var errorCount = 0
    private var total = 0
    private let started = ContinuousClock.now

    init(
        library: Library, runs: [PlannedRun], evalset: LoadedEvalSet, useCache: Bool, concurrency: Int, seed: Int,
        stop: StopRequest?, progress: ((EvalProgress) -> Void)?
    ) {
        self.store = library.store
        self.library = library
        self.runs = runs
        self.evalset = evalset
        self.useCache = useCache
        self.concurrency = max(1, concurrency)
        self.seed = seed
        self.stop = stop
        self.progress = progress
        let specs = evalset.settings.scorers
        let oneToken = runs.first?.reader == .oneToken
        self.scorers = specs.enumerated().map { index, spec in
            (
                spec, ScorerNames.name(spec, index: index, in: specs),
                oneToken && spec.readsLabels ? OneTokenLabelScorer(labels: spec.labels) : spec.scorer
            )
        }
        self.judged = specs.lazy.compactMap(\.scorer.judged).first
    }

    /// The request for one item: the case rendered with its examples and passages.
    func request(for item: WorkItem) throws -> CompletionRequest {
        try library.request(
            runs[item.run], case: cases[item.caseID]!, evalset: evalset, sample: item.sample, seed: seed)
    }

    private enum Phase: Sendable {
        case answer
        /// Grading an answer; whether it came from the cache, and under which key, is kept for the result.
        case judge(Completion, cached: Bool, responseKey: String)

        var isAnswer: Bool {
            if case .answer = self { return true }
            return false
        }
    }

    private struct Finished: Sendable {
        var index: Int
        var lane: Int
        var phase: Phase
        var request: CompletionRequest
        var key: String
        var outcome: Result<Completion, any Error>
    }

    /// How requests go out: `capacity[lane]` at a time per lane; with `slotted`, lane N's requests
    /// name server slot N (`id_slot`), so each slot keeps the prefix of the run its lane serves.
    /// Slots are named only when every run asks one server that names its slots and says how many;
    /// otherwise (OpenAI-compatible, Ollama, several endpoints or models) the lanes are just a
    /// concurrency bound and the server places requests itself.
    func lanes() -> (capacity: [Int], slotted: Bool) {
        let client = runs[0].model.client
        if client.capabilities.contains(.namesSlots), client.providers.count == 1,
            let slots = runs[0].model.properties.slots,
            slots > 0, runs.allSatisfy({ $0.model.client === client })
        {
            let count = min(concurrency, slots)
            return ((0..<count).map { concurrency / count + ($0 < concurrency % count ? 1 : 0) }, true)
        }
        return (Array(repeating: 1, count: concurrency), false)
    }

    /// Which items share a prompt prefix (a group, one lane at a time) and which follow one
    /// another through one lane (a chain). The cases of one run share their prompt's beginning,
    /// so a run is a group. Similar-example runs of one prompt and model at several k are one
    /// group together, each case a chain from the fewest examples up: the k train cases most like
    /// a case begin with the fewer (`similarCases` ranks them the same way at any k), so each of
    /// a case's prompts begins with the one before it and reads only the examples it adds.
    /// (Chains matter only within a group: a run's own cases are each a chain of one case.)
    func cacheGroups(_ items: [WorkItem]) -> (groups: [Int], chains: [Int]?, ranks: [Int]?) {
        var numbers: [String: Int] = [:]
        var nested = false
        let keys = runs.map { run -> String in
            let strategy = run.strategy
            guard strategy.selection == .similar, strategy.shots > 0, strategy.corpus == nil else {
                return "run \(run.record.id)"
            }
            nested = true
            return "similar \(run.record.revisionID) \(run.record.model) \(run.reader)"
        }
        let groups = items.map { item in
            let key = keys[item.run]
            if let number = numbers[key] { return number }
            numbers[key] = numbers.count
            return numbers[key]!
        }
        guard nested else { return (groups, nil, nil) }
        // A case's samples ask the same prompt: they keep to its chain too.
        return (groups, items.map(\.caseID), items.map { runs[$0.run].strategy.shots })
    }

    /// Runs `work`, a part at a time; returns the runtime outage that stopped it early, if one did.
    func execute(_ work: WorkList) async throws -> RuntimeUnavailable? {
        total = work.count
        defer { try? flush() }
        var outage: RuntimeUnavailable?
        var stopped = false
        try await work.forEachPart(of: Self.partSize) { items in
            outage = try await executePart(items)
            stopped = outage != nil || !mayStart()
            return !stopped
        }
        if !stopped { report() }
        return outage
    }

    /// Whether another request may go out: no outage, no stop asked, the task not cancelled.
    private func mayStart(outage: RuntimeUnavailable? = nil) -> Bool {
        outage == nil && !(stop?.isRequested ?? false) && !Task.isCancelled
    }

    /// Runs one part's items; returns the runtime outage that stopped it early, if one did.
    private func executePart(_ items: [WorkItem]) async throws -> RuntimeUnavailable? {
        guard !items.isEmpty else { return nil }
        cases = try store.cases(rowIDs: items.map(\.caseID))
        // Each request is rendered once, and the cache is asked about all of them in a few queries.
        var prepared: [(request: CompletionRequest, key: String)] = []
        prepared.reserveCapacity(items.count)
        for item in items {
            let request = try request(for: item)
            let model = runs[item.run].model
            prepared.append(
                (
                    request,
                    CacheKey.make(
                        provider: model.client.kind.rawValue, model: model.identity, request: request,
                        sample: item.sample)
                ))
        }
        // A cached answer is scored again, not stored again: its timings are not read, nor its
        // log-probabilities unless a request asked for them.
        var hits =
            useCache
            ? try store.cachedResponses(
                keys: prepared.map(\.key), logprobs: prepared.contains { $0.request.topLogprobs > 0 }, timings: false)
            : [:]
        // Answers a server may have given with adapters applied are asked again (`Schema.version4`).
        askedAgain = hits.values.filter(\.adaptersUnknown).count
        if askedAgain > 0 { hits = hits.filter { !$0.value.adaptersUnknown } }
        // The same request in two runs (two random draws that chose the same examples in the
        // same order) is sent once: the later items take its answer as a cached one, as they
        // would had the runs been scored one after the other.
        var waiting: [String: [Int]] = [:]
        var first: [String: Int] = [:]
        for (index, entry) in prepared.enumerated() where hits[entry.key] == nil {
            if first[entry.key] == nil {
                first[entry.key] = index
            } else {
                waiting[entry.key, default: []].append(index)
            }
        }
        let follows = Set(waiting.values.joined())
        let (capacity, slotted) = lanes()
        let (groups, chains, ranks) = cacheGroups(items)
        var order = LaneSchedule(groups: groups, chains: chains, ranks: ranks, lanes: capacity.count)
        var busy = Array(repeating: 0, count: capacity.count)
        var outage: RuntimeUnavailable?
        try await withThrowingTaskGroup(of: Finished.self) { group in
            func spawn(_ index: Int, lane: Int, _ phase: Phase, _ request: CompletionRequest, _ key: String) {
                // A judge grades every run alike: the base model, whatever adapter the run applies.
                let model = runs[items[index].run].model
                let client = phase.isAnswer ? model.client : model.client.base
                busy[lane] += 1
                group.addTask {
                    do {
                        return Finished(
                            index: index, lane: lane, phase: phase, request: request, key: key,
                            outcome: .success(try await client.complete(request)))
                    } catch {
                        return Finished(
                            index: index, lane: lane, phase: phase, request: request, key: key,
                            outcome: .failure(error))
                    }
                }
            }
            /// An answer is in: judge it (from the cache or a new task) when a scorer asks for a
            /// judgement, else score it.
            func answered(_ index: Int, lane: Int, _ completion: Completion, cached: Bool, responseKey: String) throws {
                let item = items[index]
                guard let judged else {
                    try record(item, completion, cached: cached, responseKey: responseKey, judge: nil)
                    return
                }
                let stored = cases[item.caseID]!
                let judgement = judged.judgement(
                    input: stored.evalCase.inputText(inputVariable: evalset.settings.input),
                    expected: stored.evalCase.expected, output: completion.text)
                let judgeRequest = CompletionRequest(
                    prompt: .text(judgement.prompt), maxTokens: judgement.maxTokens,
                    temperature: judgement.temperature, stop: judgement.stop)
                let model = runs[item.run].model
                let judgeKey = CacheKey.make(
                    provider: model.client.kind.rawValue, model: model.baseIdentity, request: judgeRequest, sample: 0)
                if useCache, let hit = try store.cachedResponse(key: judgeKey), !hit.adaptersUnknown {
                    try record(
                        item, completion, cached: cached, responseKey: responseKey, judge: hit.completion(endpoint: ""))
                } else {
                    spawn(
                        index, lane: lane, .judge(completion, cached: cached, responseKey: responseKey), judgeRequest,
                        judgeKey)
                }
            }
            func schedule() throws {
                for lane in capacity.indices {
                    while busy[lane] < capacity[lane], mayStart(outage: outage), let index = order.next(lane: lane) {
                        var (request, key) = prepared[index]
                        if follows.contains(index) { continue }
                        if let hit = hits[key] {
                            cachedCount += 1
                            try answered(
                                index, lane: lane, hit.completion(endpoint: "cache"), cached: true, responseKey: key)
                            // Cached answers are cheap to redo, so they are written in big
                            // transactions: each commit rewrites the index pages it touched.
                            if pendingWrites.count >= 2048 { try flush() }
                            continue
                        }
                        if slotted { request.slot = lane }
                        spawn(index, lane: lane, .answer, request, key)
                    }
                }
                report()
            }
            try schedule()
            while let finished = try await group.next() {
                busy[finished.lane] -= 1
                let item = items[finished.index]
                let model = runs[item.run].model
                switch finished.outcome {
                case .success(let completion):
                    let response = CachedResponse(completion, key: finished.key)
                    switch finished.phase {
                    case .answer:
                        pendingResponses.append((response, model.client.kind, model.identity, finished.request))
                        try answered(
                            finished.index, lane: finished.lane, completion, cached: false, responseKey: finished.key)
                        for index in waiting.removeValue(forKey: finished.key) ?? [] {
                            cachedCount += 1
                            try answered(
                                index, lane: finished.lane, response.completion(endpoint: "cache"), cached: true,
                                responseKey: finished.key)
                        }
                    case .judge(let answer, let cached, let responseKey):
                        pendingResponses.append((response, model.client.kind, model.baseIdentity, finished.request))
                        try record(item, answer, cached: cached, responseKey: responseKey, judge: completion)
                    }
                case .failure(let error):
                    // The items waiting on this request get its failure (resumed, they are sent).
                    let followers = finished.phase.isAnswer ? waiting.removeValue(forKey: finished.key) ?? [] : []
                    if let unavailable = error as? RuntimeUnavailable {
                        outage = unavailable
                    } else if !(error is CancellationError) {
                        recordError(item, error)
                        for index in followers { recordError(items[index], error) }
                    }
                }
                try flush()
                try schedule()
            }
        }
        try flush()
        return outage
    }

    /// Answers to store: each with its provider kind and the identity of the model that answered.
    private var pendingResponses: [(CachedResponse, ProviderKind, String, CompletionRequest)] = []

    /// Scores an answer with every scorer and queues the result for writing.
    /// - Throws: `InputError` naming the setting when a scorer gives up on the answer (a regex
    ///   that backtracks catastrophically): the evaluation stops there, as it would go on
    ///   spending that time on every case. The answers are kept in the response cache.
    private func record(
        _ item: WorkItem, _ completion: Completion, cached: Bool, responseKey: String?, judge: Completion?
    ) throws {
        let stored = cases[item.caseID]!
        var scores: [String: JSONValue] = [:]
        var headline: Double?
        var unscorable: String?
        for (index, entry) in scorers.enumerated() {
            let score: Score?
            if let judged = entry.spec.scorer.judged {
                score = judge.flatMap { judged.grade($0.text) }
            } else {
                do {
                    score = try entry.scorer.checkedScore(
                        completion.text, expected: stored.evalCase.expected, logprobs: completion.logprobs)
                } catch let slow as ScorerTooSlow {
                    throw InputError(
                        file: "evalsets/\(evalset.name).json", field: "scorers[\(index)].pattern",
                        "\(slow.description); it did so on the answer to case \(stored.evalCase.id), and the evaluation stopped there (the answers so far are kept and cached)"
                    )
                }
            }
            if let score { scores[entry.name] = score.json }
            if index == 0 {
                headline = score?.value
                if score == nil {
                    unscorable =
                        entry.spec.scorer.judged?.ungraded(judge?.text ?? "")
                        ?? "the \(entry.name) scorer needs log-probabilities, which this model's server did not give"
                }
            }
        }
        let result = ResultRecord(
            caseID: item.caseID, sample: item.sample, responseKey: responseKey, output: completion.text,
            score: headline, scores: .object(scores), error: unscorable,
            errorKind: unscorable == nil ? nil : .unscorable, promptTokens: completion.promptTokens,
            completionTokens: completion.completionTokens, latencyMilliseconds: completion.latencyMilliseconds,
            cached: cached)
        if unscorable != nil { errorCount += 1 }
        done += 1
        pendingWrites.append((runs[item.run].record.id, result))
    }

    private func recordError(_ item: WorkItem, _ error: any Error) {
        let result = ResultRecord(
            caseID: item.caseID, sample: item.sample, responseKey: nil, output: nil, score: nil, scores: .object([:]),
            error: String(describing: error), errorKind: .init(error), promptTokens: nil, completionTokens: nil,
            latencyMilliseconds: nil,
            cached: false)
        errorCount += 1
        done += 1
        pendingWrites.append((runs[item.run].record.id, result))
    }

    /// Writes queued responses and results in one transaction.
    private func flush() throws {
        guard !pendingWrites.isEmpty || !pendingResponses.isEmpty else { return }
        let writes = pendingWrites
        let responses = pendingResponses
        pendingWrites.removeAll(keepingCapacity: true)
        pendingResponses.removeAll(keepingCapacity: true)
        try store.transaction {
            for (response, provider, identity, request) in responses {
                try store.storeResponse(
                    response, provider: provider.rawValue, model: identity, request: request.canonicalJSON)
            }
            for (run, result) in writes { try store.insertResult(runID: run, result) }
        }
    }

    private var lastReport = ContinuousClock.now

    private func report() {
        guard let progress else { return }
        let now = ContinuousClock.now
        guard done == total || now - lastReport > .milliseconds(100) else { return }
        lastReport = now
        let elapsed = started.duration(to: now)
        progress(
            EvalProgress(
                done: done, total: total, cached: cachedCount, errors: errorCount,
                elapsed: elapsed.inSeconds))
    }
}

extension CachedResponse {
    init(_ completion: Completion, key: String) {
        self.init(
            key: key, output: completion.text, finishReason: completion.finishReason.description,
            promptTokens: completion.promptTokens, completionTokens: completion.completionTokens,
            latencyMilliseconds: completion.latencyMilliseconds,
            logprobs: completion.logprobs.map { .array($0.map(\.json)) }, timings: completion.serverTimings?.json,
            adapters: LoraScale.json(completion.lora ?? []))
    }

    /// The cached answer as a completion: its original tokens and latency.
    func completion(endpoint: String) -> Completion {
        Completion(
            text: output, promptTokens: promptTokens, completionTokens: completionTokens,
            latencyMilliseconds: latencyMilliseconds, finishReason: FinishReason(finishReason),
            logprobs: logprobs?.arrayValue?.compactMap(TokenLogprob.init(json:)),
            serverTimings: ServerTimings(
                stored: timings, promptTokens: promptTokens, completionTokens: completionTokens),
            endpoint: endpoint)
    }
}
