import Foundation
import Synchronization
import WorkbenchCore

/// A stub of OpenAI's fine-tuning API (`/v1/files`, `/v1/fine_tuning/jobs…`, a bearer key) or
/// Azure OpenAI's data plane (`/openai/files`, `/openai/fine_tuning/jobs…?api-version=…`, an
/// `api-key` header). It keeps the files it was sent and runs each job one step further every
/// time the job is asked for: validating files, queued, running, then its outcome. Trained tokens
/// are the training file's words times the epochs, so tests can predict them.
///
/// Give it the first say in a `StubServer` beside a `StubModel`:
/// `StubServer(model: model) { api.handle($0) }`.
package final class StubFineTuningAPI: Sendable {
    package enum Flavor: Sendable, Equatable {
        case openAI
        case azure(apiVersion: String)
    }

    /// How a job ends.
    package enum Outcome: Sendable, Equatable {
        case succeed
        /// Fails with this message (as OpenAI's `error.message`).
        case fail(String)
        /// Stays running however often it is asked.
        case neverEnd
    }

    /// A file as the stub received it.
    package struct Upload: Sendable {
        package var id: String
        package var purpose: String
        package var filename: String
        package var contentType: String
        package var content: [UInt8]

        package var lines: [JSONValue] {
            String(decoding: content, as: UTF8.self).split(separator: "\n").compactMap {
                try? JSONValue(parsing: String($0))
            }
        }
    }

    struct Job {
        var id: String
        var request: JSONValue
        var outcome: Outcome
        /// How many times the job was asked for: its step in the run.
        var polls = 0
        var cancelled = false
        var events: [JSONValue] = []
    }

    struct State {
        var uploads: [Upload] = []
        var jobs: [Job] = []
        var fileChecks: [String: Int] = [:]
    }

    package let flavor: Flavor
    /// The key requests must carry (as the flavour carries it); nil takes any.
    package let key: String?
    /// How many running steps a job takes before its outcome.
    package let runningSteps: Int
    private let outcome: @Sendable (Int) -> Outcome
    private let state = Mutex(State())

    /// - Parameter outcome: how the n-th job created (from 0) ends.
    package init(
        flavor: Flavor = .openAI, key: String? = "sk-stub", runningSteps: Int = 2,
        outcome: @escaping @Sendable (Int) -> Outcome = { _ in .succeed }
    ) {
        self.flavor = flavor
        self.key = key
        self.runningSteps = runningSteps
        self.outcome = outcome
    }

    package var uploads: [Upload] { state.withLock { $0.uploads } }
    /// The bodies of the job creations, in order.
    package var jobRequests: [JSONValue] { state.withLock { $0.jobs.map(\.request) } }
    package var cancelledJobs: [String] { state.withLock { $0.jobs.filter(\.cancelled).map(\.id) } }

    /// The tuned model's name a job gets, as each provider forms it.
    package func tunedModelName(base: String, suffix: String?, job: String) -> String {
        switch flavor {
        case .openAI: "ft:\(base):stub-org:\(suffix ?? "none"):\(job.suffix(8))"
        case .azure: "\(base).ft-\(job.suffix(8))"
        }
    }

    /// Answers a fine-tuning request; nil for any other path (a model's, for the `StubModel`).
    package func handle(_ request: StubRequest) -> StubReply? {
        let (path, query) = split(request.path)
        let prefix = flavor == .openAI ? "/v1" : "/openai"
        guard path.hasPrefix(prefix + "/files") || path.hasPrefix(prefix + "/fine_tuning/") else { return nil }
        if let refusal = checkAccess(request, query: query) { return refusal }
        let route = Array(path.dropFirst(prefix.count).split(separator: "/").map(String.init))
        switch (request.method, route.count) {
        case ("POST", 1) where route[0] == "files": return upload(request)
        case ("GET", 2) where route[0] == "files": return file(route[1])
        case ("POST", 2) where route == ["fine_tuning", "jobs"]: return create(request)
        case ("GET", 2) where route == ["fine_tuning", "jobs"]: return list()
        case ("GET", 3) where route[1] == "jobs": return poll(route[2])
        case ("GET", 4) where route[3] == "events": return events(route[2], limit: limit(query))
        case ("POST", 4) where route[3] == "cancel": return cancel(route[2])
        default: return .status(404, "no route \(request.method) \(path)")
        }
    }

    // MARK: Routes

    private func checkAccess(_ request: StubRequest, query: [String: String]) -> StubReply? {
        if case .azure(let version) = flavor {
            guard query["api-version"] == version else {
                return .json(
                    ["error": ["code": "404", "message": "Resource not found"]], status: 404)
            }
        }
        guard let key else { return nil }
        let given: String? =
            switch flavor {
            case .openAI: request.headers["authorization"]
            case .azure: request.headers["api-key"]
            }
        let expected = flavor == .openAI ? "Bearer \(key)" : key
        return given == expected
            ? nil : .status(401, "Access denied due to invalid subscription key or wrong API endpoint")
    }

    private func upload(_ request: StubRequest) -> StubReply {
        guard let contentType = request.headers["content-type"],
            let parts = StubMultipart.parse(request.body, contentType: contentType),
            let file = parts.first(where: { $0.name == "file" }),
            let purpose = parts.first(where: { $0.name == "purpose" })
        else {
            return .status(400, "expected a multipart/form-data body with a file and a purpose")
        }
        let id = "file-" + SHA256.hex(bytes: file.data).prefix(12) + String(state.withLock { $0.uploads.count })
        let upload = Upload(
            id: id, purpose: String(decoding: purpose.data, as: UTF8.self), filename: file.filename ?? "",
            contentType: file.contentType ?? "", content: file.data)
        state.withLock { $0.uploads.append(upload) }
        // Azure checks a file before a job may use it; OpenAI reports it processed at once.
        let status = flavor == .openAI ? "processed" : "pending"
        return .json(fileJSON(upload, status: status), status: flavor == .openAI ? 200 : 201)
    }

    private func file(_ id: String) -> StubReply {
        let found = state.withLock { state -> (Upload, Int)? in
            guard let upload = state.uploads.first(where: { $0.id == id }) else { return nil }
            state.fileChecks[id, default: 0] += 1
            return (upload, state.fileChecks[id]!)
        }
        guard let (upload, checks) = found else { return .status(404, "no file \(id)") }
        return .json(fileJSON(upload, status: checks >= 2 ? "processed" : "running"))
    }

    private func fileJSON(_ upload: Upload, status: String) -> JSONValue {
        [
            "id": .string(upload.id), "object": "file", "bytes": .number(Double(upload.content.count)),
            "created_at": 1_700_000_000, "filename": .string(upload.filename), "purpose": .string(upload.purpose),
            "status": .string(status),
        ]
    }

    private func create(_ request: StubRequest) -> StubReply {
        guard let body = request.json, body["model"]?.stringValue != nil, body["training_file"]?.stringValue != nil
        else {
            return .status(400, "model and training_file are required")
        }
        let reply = state.withLock { state -> StubReply in
            for key in ["training_file", "validation_file"] {
                if let id = body[key]?.stringValue, !state.uploads.contains(where: { $0.id == id }) {
                    return .status(400, "invalid \(key): \(id)")
                }
            }
            let number = state.jobs.count
            let id = "ftjob-stub\(String(format: "%06d", number))"
            state.jobs.append(Job(id: id, request: body, outcome: outcome(number)))
            state.jobs[number].events.append(event(state.jobs[number], "Created fine-tuning job: \(id)"))
            return .json(jobJSON(state.jobs[number], state: state))
        }
        return reply
    }

    private func list() -> StubReply {
        state.withLock { state in
            .json([
                "object": "list", "data": .array(state.jobs.reversed().map { jobJSON($0, state: state) }),
                "has_more": false,
            ])
        }
    }

    private func poll(_ id: String) -> StubReply {
        state.withLock { state in
            guard let index = state.jobs.firstIndex(where: { $0.id == id }) else {
                return .status(404, "no fine-tuning job \(id)")
            }
            advance(&state.jobs[index], state: state)
            return .json(jobJSON(state.jobs[index], state: state))
        }
    }

    private func events(_ id: String, limit: Int) -> StubReply {
        state.withLock { state in
            guard let job = state.jobs.first(where: { $0.id == id }) else {
                return .status(404, "no fine-tuning job \(id)")
            }
            return .json([
                "object": "list", "data": .array(job.events.reversed().prefix(limit).map { $0 }), "has_more": false,
            ])
        }
    }

    private func cancel(_ id: String) -> StubReply {
        state.withLock { state in
            guard let index = state.jobs.firstIndex(where: { $0.id == id }) else {
                return .status(404, "no fine-tuning job \(id)")
            }
            if !isFinal(state.jobs[index]) {
                state.jobs[index].cancelled = true
                state.jobs[index].events.append(event(state.jobs[index], "Fine-tuning job cancelled"))
            }
            return .json(jobJSON(state.jobs[index], state: state))
        }
    }

    // MARK: A job's life

    /// validating_files (poll 0), queued (1), running (2 … 1 + runningSteps), then the outcome.
    private func status(_ job: Job) -> String {
        if job.cancelled { return "cancelled" }
        switch job.polls {
        case 0: return "validating_files"
        case 1: return "queued"
        case 2...(1 + runningSteps): return "running"
        default:
            switch job.outcome {
            case .succeed: return "succeeded"
            case .fail: return "failed"
            case .neverEnd: return "running"
            }
        }
    }

    private func isFinal(_ job: Job) -> Bool { ["succeeded", "failed", "cancelled"].contains(status(job)) }

    private func advance(_ job: inout Job, state: State) {
        guard !isFinal(job) else { return }
        job.polls += 1
        let now = status(job)
        switch now {
        case "queued": job.events.append(event(job, "Files validated, moving job to queued state"))
        case "running":
            let step = job.polls - 1
            job.events.append(
                event(job, "Step \(step)/\(runningSteps): training loss=\(String(format: "%.3f", 1.0 / Double(step)))"))
        case "succeeded":
            job.events.append(event(job, "New fine-tuned model created"))
            job.events.append(event(job, "The job has successfully completed"))
        case "failed":
            if case .fail(let message) = job.outcome { job.events.append(event(job, message, level: "error")) }
        default: break
        }
    }

    private func event(_ job: Job, _ message: String, level: String = "info") -> JSONValue {
        [
            "object": "fine_tuning.job.event", "id": .string("ftevent-\(job.id.suffix(6))-\(job.events.count)"),
            "created_at": .number(Double(1_700_000_000 + job.events.count)), "level": .string(level),
            "message": .string(message), "type": "message",
        ]
    }

    private func epochs(_ job: Job) -> Int {
        job.request["hyperparameters"]?["n_epochs"]?.intValue ?? 3
    }

    /// The training file's words (every message's content), times the epochs.
    private func trainedTokens(_ job: Job, state: State) -> Int {
        guard let id = job.request["training_file"]?.stringValue,
            let upload = state.uploads.first(where: { $0.id == id })
        else { return 0 }
        let words = upload.lines.reduce(0) { total, line in
            total
                + (line["messages"]?.arrayValue ?? []).reduce(0) {
                    $0 + StubModel.tokens($1["content"]?.stringValue ?? "")
                }
        }
        return words * epochs(job)
    }

    private func jobJSON(_ job: Job, state: State) -> JSONValue {
        let status = status(job)
        let model = job.request["model"]?.stringValue ?? ""
        var json: [String: JSONValue] = [
            "object": "fine_tuning.job", "id": .string(job.id), "model": .string(model), "status": .string(status),
            "created_at": 1_700_000_000, "finished_at": .null, "fine_tuned_model": .null, "trained_tokens": .null,
            "training_file": job.request["training_file"] ?? .null,
            "validation_file": job.request["validation_file"] ?? .null, "error": .null, "result_files": [],
            "hyperparameters": [
                "n_epochs": job.polls >= 2
                    ? .number(Double(epochs(job))) : job.request["hyperparameters"]?["n_epochs"] ?? "auto",
                "batch_size": job.polls >= 2 ? 1 : "auto",
                "learning_rate_multiplier": job.polls >= 2 ? 1.8 : "auto",
            ],
        ]
        switch status {
        case "succeeded":
            json["fine_tuned_model"] = .string(
                tunedModelName(base: model, suffix: job.request["suffix"]?.stringValue, job: job.id))
            json["trained_tokens"] = .number(Double(trainedTokens(job, state: state)))
            json["finished_at"] = 1_700_003_600
        case "failed":
            if case .fail(let message) = job.outcome {
                json["error"] = [
                    "code": "invalid_training_file", "message": .string(message), "param": "training_file",
                ]
            }
            json["finished_at"] = 1_700_003_600
        default: break
        }
        return .object(json)
    }

    // MARK: Helpers

    private func split(_ target: String) -> (String, [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        return (parts.first ?? "", query)
    }

    private func limit(_ query: [String: String]) -> Int { query["limit"].flatMap { Int($0) } ?? 20 }
}
