import WorkbenchCore

package enum RunStatus: String, Sendable, Hashable {
    /// `interrupted` covers every way a run can stop early (Ctrl-C, an outage, a failure): all
    /// of them are resumed the same way.
    case running, completed, interrupted
}

/// A stored run: one revision, one model, one strategy, a planned list of cases.
package struct RunRecord: Sendable, Hashable {
    package var id: Int
    package var batch: String
    package var templateID: Int
    package var revisionID: Int
    package var evalsetID: Int
    package var split: Split
    package var provider: String
    package var model: String
    package var params: RunParameters
    package var strategy: Strategy
    /// The case row ids to score, in order.
    package var plan: [Int]
    package var status: RunStatus
    package var summary: JSONValue?
    package var createdAt: String
    package var finishedAt: String?

    /// Samples per case (`--repeat`).
    package var samples: Int { params.repeats }

    package init(
        id: Int, batch: String, templateID: Int, revisionID: Int, evalsetID: Int, split: Split, provider: String,
        model: String, params: RunParameters, strategy: Strategy, plan: [Int], status: RunStatus, summary: JSONValue?,
        createdAt: String, finishedAt: String?
    ) {
        self.id = id
        self.batch = batch
        self.templateID = templateID
        self.revisionID = revisionID
        self.evalsetID = evalsetID
        self.split = split
        self.provider = provider
        self.model = model
        self.params = params
        self.strategy = strategy
        self.plan = plan
        self.status = status
        self.summary = summary
        self.createdAt = createdAt
        self.finishedAt = finishedAt
    }
}

/// A run with the names a listing shows.
package struct RunListing: Sendable {
    package var run: RunRecord
    package var template: String
    package var variant: String
    package var revision: Int
    package var evalset: String
    package var done: Int
    package var errors: Int
}

/// One scored (or failed) output of a run.
package struct ResultRecord: Sendable, Hashable {
    package var caseID: Int
    package var sample: Int
    package var responseKey: String?
    package var output: String?
    /// The first scorer's value; nil when the request failed.
    package var score: Double?
    /// Every scorer's `Score` JSON by name.
    package var scores: JSONValue
    package var error: String?
    /// What kind of failure `error` is; nil for results stored before kinds were.
    package var errorKind: ErrorKind?
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var latencyMilliseconds: Double?
    package var cached: Bool

    /// Why a result has an error, which decides what the user must do (and the exit code).
    package enum ErrorKind: String, Sendable, Hashable {
        /// The model server could not be reached, timed out, or failed (5xx, 429): retry later.
        case noAnswer = "no_answer"
        /// The server answered with something that is not a completion (malformed, cut short).
        case unreadable
        /// The server refused who asks or what (HTTP 401, 403, 404): the configuration is wrong.
        case refused
        /// The server refused the request itself (another 4xx).
        case rejected
        /// The prompt and the tokens asked for do not fit the server's context: the input is wrong.
        case promptTooLong = "prompt_too_long"
        /// An answer came, but no scorer could grade it.
        case unscorable
    }

    package init(
        caseID: Int, sample: Int, responseKey: String?, output: String?, score: Double?, scores: JSONValue,
        error: String?, errorKind: ErrorKind? = nil, promptTokens: Int?, completionTokens: Int?,
        latencyMilliseconds: Double?, cached: Bool
    ) {
        self.caseID = caseID
        self.sample = sample
        self.responseKey = responseKey
        self.output = output
        self.score = score
        self.scores = scores
        self.error = error
        self.errorKind = errorKind
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.cached = cached
    }
}

/// A cached model response, as the cache key found it.
package struct CachedResponse: Sendable, Hashable {
    package var key: String
    package var output: String
    package var finishReason: String?
    package var promptTokens: Int?
    package var completionTokens: Int?
    package var latencyMilliseconds: Double
    package var logprobs: JSONValue?
    package var timings: JSONValue?
    /// The LoRA scales the request stated, as the server was asked (`[]`: it had no adapter
    /// loaded); nil for an answer stored before they were recorded.
    package var adapters: JSONValue?
    /// Stored before adapter scales were recorded, by a server that may have applied adapters to
    /// a base request: not to be served (see `Schema.version4`).
    package var adaptersUnknown = false

    package init(
        key: String, output: String, finishReason: String?, promptTokens: Int?, completionTokens: Int?,
        latencyMilliseconds: Double, logprobs: JSONValue?, timings: JSONValue?, adapters: JSONValue? = nil
    ) {
        self.key = key
        self.output = output
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.logprobs = logprobs
        self.timings = timings
        self.adapters = adapters
    }
}

extension Store {
    /// The columns of a run, each named (`r.id AS id`) so rows are read by name.
    static func runColumns(_ table: String = "runs") -> String {
        [
            "id", "batch", "template_id", "revision_id", "evalset_id", "split", "provider", "model", "params",
            "strategy", "plan", "status", "summary", "created_at", "finished_at",
        ].map { "\(table).\($0) AS \($0)" }.joined(separator: ", ")
    }

    /// Stores `run` (its id, status and times are the store's) and returns it as stored.
    package func createRun(_ run: RunRecord) throws -> RunRecord {
        try database.run(
            """
            INSERT INTO runs (batch, template_id, revision_id, evalset_id, split, provider, model, params, strategy, plan)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(run.batch), SQLValue(run.templateID), SQLValue(run.revisionID), SQLValue(run.evalsetID),
            .text(run.split.rawValue), .text(run.provider), .text(run.model), .text(run.params.json.serialized()),
            .text(run.strategy.json.serialized()),
            .text(JSONValue.array(run.plan.map { .number(Double($0)) }).serialized()))
        return try self.run(id: Int(database.lastInsertRowID))!
    }

    package func run(id: Int) throws -> RunRecord? {
        try database.queryFirst(
            "SELECT \(Store.runColumns()) FROM runs WHERE id = ?", SQLValue(id), map: Store.runRecord)
    }

    package func runs(batch: String) throws -> [RunRecord] {
        try database.query(
            "SELECT \(Store.runColumns()) FROM runs WHERE batch = ? ORDER BY id", .text(batch), map: Store.runRecord)
    }

    /// The newest runs first, with names and progress.
    package func runListings(limit: Int, templateID: Int? = nil) throws -> [RunListing] {
        try database.query(
            """
            SELECT \(Store.runColumns("r")),
                   t.name AS template_name, v.name AS variant_name, rv.number AS revision_number,
                   e.name AS evalset_name,
                   (SELECT COUNT(*) FROM results x WHERE x.run_id = r.id) AS done,
                   (SELECT COUNT(*) FROM results x WHERE x.run_id = r.id AND x.error IS NOT NULL) AS errors
            FROM runs r
            JOIN templates t ON t.id = r.template_id
            JOIN revisions rv ON rv.id = r.revision_id
            JOIN variants v ON v.id = rv.variant_id
            JOIN evalsets e ON e.id = r.evalset_id
            WHERE ? IS NULL OR r.template_id = ?
            ORDER BY r.id DESC LIMIT ?
            """,
            SQLValue(templateID), SQLValue(templateID), SQLValue(limit)
        ) { row in
            try RunListing(
                run: try Store.runRecord(row), template: row.text("template_name"), variant: row.text("variant_name"),
                revision: row.int("revision_number"), evalset: row.text("evalset_name"), done: row.int("done"),
                errors: row.int("errors"))
        }
    }

    package func setRunStatus(_ id: Int, _ status: RunStatus, summary: JSONValue? = nil) throws {
        let finished = status == .running ? nil : "now"
        try database.run(
            """
            UPDATE runs SET status = ?, summary = COALESCE(?, summary),
                finished_at = CASE WHEN ? IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END
            WHERE id = ?
            """,
            .text(status.rawValue), SQLValue(summary?.serialized()), SQLValue(finished), SQLValue(id))
    }

    /// Stores one result; a second result for the same case and sample replaces nothing and fails.
    package func insertResult(runID: Int, _ result: ResultRecord) throws {
        try database.run(
            """
            INSERT INTO results (run_id, case_id, sample, response_key, output, score, scores, error, error_kind,
                                 prompt_tokens, completion_tokens, latency_ms, cached)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            SQLValue(runID), SQLValue(result.caseID), SQLValue(result.sample), SQLValue(result.responseKey),
            SQLValue(result.output), SQLValue(result.score), .text(result.scores.serialized()), SQLValue(result.error),
            SQLValue(result.errorKind?.rawValue), SQLValue(result.promptTokens), SQLValue(result.completionTokens),
            SQLValue(result.latencyMilliseconds),
            SQLValue(result.cached))
    }

    /// Deletes the error results of a run, so `--resume` tries those cases again.
    /// - Parameter failedRequestsOnly: only the requests that got no answer (no output), not the
    ///   answers a scorer could not grade.
    @discardableResult
    package func deleteErrorResults(runID: Int, failedRequestsOnly: Bool = false) throws -> Int {
        try database.run(
            "DELETE FROM results WHERE run_id = ? AND error IS NOT NULL AND (output IS NULL OR ? = 0)", SQLValue(runID),
            SQLValue(failedRequestsOnly))
    }

    /// A request of a run that got no answer: its case row, its error and the error's kind.
    package struct FailedRequest: Sendable, Hashable {
        package var caseID: Int
        package var error: String
        package var kind: ResultRecord.ErrorKind?
    }

    /// The first failed request of each kind in a run (nil kind: stored before kinds were), with
    /// how many of that kind there are.
    package func failedRequestsByKind(runID: Int) throws -> [(first: FailedRequest, count: Int)] {
        try database.query(
            """
            SELECT r.case_id, r.error, r.error_kind, g.n
            FROM (SELECT MIN(id) AS first, COUNT(*) AS n FROM results
                  WHERE run_id = ? AND error IS NOT NULL AND output IS NULL GROUP BY error_kind) g
            JOIN results r ON r.id = g.first
            ORDER BY r.id
            """,
            SQLValue(runID)
        ) { row in
            (
                FailedRequest(
                    caseID: row.int(0), error: row.text(1),
                    kind: row.optionalText(2).flatMap(ResultRecord.ErrorKind.init(rawValue:))),
                row.int(3)
            )
        }
    }

    package func results(runID: Int) throws -> [ResultRecord] {
        var all: [ResultRecord] = []
        try forEachResult(runID: runID) { all.append($0) }
        return all
    }

    /// Visits a run's results one at a time, so summaries of large runs hold none of them.
    package func forEachResult(runID: Int, _ body: (ResultRecord) throws -> Void) throws {
        _ = try database.query(
            """
            SELECT case_id, sample, response_key, output, score, scores, error, prompt_tokens, completion_tokens,
                   latency_ms, cached, error_kind
            FROM results WHERE run_id = ? ORDER BY case_id, sample
            """,
            SQLValue(runID)
        ) { row -> Void in
            try body(
                ResultRecord(
                    caseID: row.int(0), sample: row.int(1), responseKey: row.optionalText(2),
                    output: row.optionalText(3),
                    score: row.optionalDouble(4),
                    scores: try row.json(5, "scores", of: "the result of case row \(row.int(0)) in run \(runID)"),
                    error: row.optionalText(6),
                    errorKind: row.optionalText(11).flatMap(ResultRecord.ErrorKind.init(rawValue:)),
                    promptTokens: row.optionalInt(7), completionTokens: row.optionalInt(8),
                    latencyMilliseconds: row.optionalDouble(9), cached: row.bool(10)))
        }
    }

    /// The (case, sample) pairs a run has results for.
    /// The case rows a run holds a result for, each once.
    package func caseIDsWithResults(runID: Int) throws -> [Int] {
        try database.query("SELECT DISTINCT case_id FROM results WHERE run_id = ?", SQLValue(runID)) { $0.int(0) }
    }

    package func finishedItems(runID: Int) throws -> Set<[Int]> {
        Set(
            try database.query("SELECT case_id, sample FROM results WHERE run_id = ?", SQLValue(runID)) {
                [$0.int(0), $0.int(1)]
            })
    }

    private static let responseColumns =
        "key, output, finish_reason, prompt_tokens, completion_tokens, latency_ms, logprobs, timings, adapters"

    private static func cachedResponse(_ row: Row) throws -> CachedResponse {
        let adapters = row.optionalText(8)
        var response = CachedResponse(
            key: row.text(0), output: row.text(1), finishReason: row.optionalText(2),
            promptTokens: row.optionalInt(3),
            completionTokens: row.optionalInt(4), latencyMilliseconds: row.double(5),
            logprobs: try row.optionalJSON(6, "logprobs", of: "cached response \(row.text(0))"),
            timings: try row.optionalJSON(7, "timings", of: "cached response \(row.text(0))"),
            adapters: adapters == Store.adaptersUnknown
                ? nil : try row.optionalJSON(8, "adapters", of: "cached response \(row.text(0))"))
        response.adaptersUnknown = adapters == Store.adaptersUnknown
        return response
    }

    /// How `Schema.version4` marks an answer a server may have given with adapters applied.
    static let adaptersUnknown = "unknown"

    /// The cached response under `key`, including one whose adapters are unknown
    /// (`adaptersUnknown`), which the caller must not serve.
    package func cachedResponse(key: String) throws -> CachedResponse? {
        try database.queryFirst(
            "SELECT \(Store.responseColumns) FROM responses WHERE key = ?", .text(key), map: Store.cachedResponse)
    }

    /// The cached responses among `keys`, by key: one query per few hundred keys rather than one
    /// per key, so a fully cached re-run is not bound by lookups. Those whose adapters are unknown
    /// are among them, marked (`adaptersUnknown`): the caller asks them again.
    /// - Parameters:
    ///   - logprobs: read the log-probabilities (only scorers that use them need them).
    ///   - timings: read the server's timings (a cached answer is scored, not timed again).
    package func cachedResponses(keys: [String], logprobs: Bool = true, timings: Bool = true) throws -> [String:
        CachedResponse]
    {
        let unique = Array(Set(keys))
        let chunk = 250
        var found: [String: CachedResponse] = [:]
        let columns =
            "key, output, finish_reason, prompt_tokens, completion_tokens, latency_ms, "
            + (logprobs ? "logprobs" : "NULL") + ", " + (timings ? "timings" : "NULL") + ", adapters"
        for start in stride(from: 0, to: unique.count, by: chunk) {
            let part = unique[start..<min(start + chunk, unique.count)]
            let marks = Array(repeating: "?", count: part.count).joined(separator: ", ")
            let statement = try database.statement(
                "SELECT \(columns) FROM responses WHERE key IN (\(marks))")
            for response in try statement.query(part.map { .text($0) }, map: Store.cachedResponse) {
                found[response.key] = response
            }
        }
        return found
    }

    /// Stores a response under its key (a newer answer to the same key replaces the older), with
    /// the adapter scales it was asked with (`CachedResponse.adapters`; `[]` when none were).
    package func storeResponse(_ response: CachedResponse, provider: String, model: String, request: JSONValue) throws {
        try database.run(
            """
            INSERT INTO responses (key, provider, model, request, output, finish_reason, prompt_tokens,
                                   completion_tokens, latency_ms, logprobs, timings, adapters)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET
                output = excluded.output, finish_reason = excluded.finish_reason,
                prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                latency_ms = excluded.latency_ms, logprobs = excluded.logprobs, timings = excluded.timings,
                adapters = excluded.adapters, created_at = excluded.created_at
            """,
            .text(response.key), .text(provider), .text(model), .text(request.serialized()), .text(response.output),
            SQLValue(response.finishReason), SQLValue(response.promptTokens), SQLValue(response.completionTokens),
            .real(response.latencyMilliseconds), SQLValue(response.logprobs?.serialized()),
            SQLValue(response.timings?.serialized()), .text((response.adapters ?? []).serialized()))
    }

    static func runRecord(_ row: Row) throws -> RunRecord {
        let id = try row.int("id")
        let name = "run \(id)"
        guard let split = Split(rawValue: try row.text("split")) else {
            throw StoreError.corrupt("\(name) has an unknown split")
        }
        return try RunRecord(
            id: id, batch: row.text("batch"), templateID: row.int("template_id"),
            revisionID: row.int("revision_id"), evalsetID: row.int("evalset_id"), split: split,
            provider: row.text("provider"), model: row.text("model"),
            params: RunParameters(json: try row.json("params", of: name)),
            strategy: Strategy(json: try row.json("strategy", of: name)),
            plan: try row.json("plan", of: name).arrayValue?.compactMap(\.intValue) ?? [],
            status: RunStatus(rawValue: row.text("status")) ?? .interrupted,
            summary: try row.optionalJSON("summary", of: name),
            createdAt: row.text("created_at"), finishedAt: row.optionalText("finished_at"))
    }
}
