import Foundation
import WorkbenchCore

/// A provider's hosted fine-tuning API: upload the data, start a job, follow it to its end.
/// OpenAI's (`/v1/files`, `/v1/fine_tuning/jobs…`, a bearer key) and Azure OpenAI's data plane
/// (`/openai/files`, `/openai/fine_tuning/jobs…`, an `api-version` query, an `api-key` header)
/// are the same API under other paths.
///
/// Requests that only read (a job, its events) and those safe to repeat (an upload: a second
/// copy costs nothing; a cancellation) are retried after 429, 5xx, timeouts and broken
/// connections, with back-off that honours `Retry-After`. Starting a job costs money, so it is
/// sent again only when it surely did not start: after a 429, or when the server could not be
/// reached. After an answer that leaves it open (a 5xx, a timeout) the jobs are listed and one
/// already training on the same file is taken instead.
package struct FineTuningClient: Sendable {
    package enum API: Sendable, Hashable, CustomStringConvertible {
        /// OpenAI and servers compatible with it; the endpoint ends in `/v1`.
        case openAI
        /// Azure OpenAI's data plane; the endpoint is the resource's URL.
        case azure(apiVersion: String)

        package var description: String {
            switch self {
            case .openAI: "OpenAI"
            case .azure: "Azure OpenAI"
            }
        }
    }

    package let api: API
    package let endpoint: URL
    /// Seconds allowed for one request (an upload gets more for its size).
    package let timeout: Double
    package let retry: RetryPolicy
    private let transport: JSONTransport

    /// - Parameter apiKey: read from the environment by the caller; sent as the provider wants it.
    package init(
        api: API, endpoint: URL, apiKey: String?, http: any HTTPTransport, timeout: Double = 120,
        retry: RetryPolicy = RetryPolicy()
    ) {
        self.api = api
        self.endpoint = endpoint
        self.timeout = timeout
        self.retry = retry
        switch api {
        case .openAI:
            transport = JSONTransport(http: http, base: endpoint, credential: apiKey.map(Credential.bearer) ?? .none)
        case .azure(let version):
            transport = JSONTransport(
                http: http, base: endpoint, credential: apiKey.map(Credential.apiKey) ?? .none,
                query: "api-version=\(version)")
        }
    }

    /// The path of `tail` (`/files`, `/fine_tuning/jobs`) in this API.
    private func path(_ tail: String) -> String {
        switch api {
        case .openAI: tail
        case .azure: "/openai" + tail
        }
    }

    /// Where a job lives, for messages: the endpoint, never a key.
    package var url: String { endpoint.absoluteString }

    // MARK: Files

    /// Uploads `data` (chat-format JSON lines) as a file for fine-tuning; returns it as the
    /// provider first describes it (Azure: still `pending`; see `waitUntilReady`).
    package func upload(_ data: [UInt8], filename: String) async throws -> UploadedFile {
        let form = MultipartForm([
            MultipartForm.Part(name: "purpose", value: "fine-tune"),
            MultipartForm.Part(name: "file", filename: filename, contentType: "application/jsonl", data: data),
        ])
        // The time allowed grows with the size: 256 KiB a second is a slow uplink.
        let allowed = timeout + Double(data.count) / 262_144
        let route = path("/files")
        let (answer, _) = try await retrying { try await transport.post(route, form: form, timeout: allowed) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).uploadedFile()
    }

    package func file(_ id: String) async throws -> UploadedFile {
        let route = path("/files/\(id)")
        let (answer, _) = try await retrying { try await transport.get(route, timeout: timeout) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).uploadedFile()
    }

    /// Waits while the provider checks an uploaded file (Azure's `pending`), up to `limit`.
    /// - Throws: `FineTuningError.fileRefused` when it refuses the file or is still checking it.
    package func waitUntilReady(
        _ file: UploadedFile, pollInterval: Duration = .seconds(5), limit: Duration = .seconds(600)
    ) async throws -> UploadedFile {
        var current = file
        let started = ContinuousClock.now
        while true {
            if current.isRefused {
                throw FineTuningError.fileRefused(
                    file: current.id, url: url,
                    message: current.statusDetails ?? "its status is \(current.status ?? "")")
            }
            guard current.isBeingChecked else { return current }
            guard started.duration(to: .now) + pollInterval <= limit else {
                throw FineTuningError.fileRefused(
                    file: current.id, url: url,
                    message: "it was still being checked after \(Int(limit.inSeconds)) s; ask again later")
            }
            try await Task.sleep(for: pollInterval)
            current = try await self.file(current.id)
        }
    }

    // MARK: Jobs

    /// Starts a job. A job that may have started though the answer was lost is looked up by its
    /// training file rather than started twice.
    package func createJob(_ request: FineTuningJobRequest) async throws -> FineTuningJob {
        let route = path("/fine_tuning/jobs")
        let address = transport.url(route).absoluteString
        var attempt = 0
        while true {
            do {
                let (answer, _) = try await transport.post(route, request.json, timeout: timeout)
                return try FineTuningAnswer(json: answer, url: address).job()
            } catch {
                let outcome = Outcome(error)
                attempt += 1
                guard outcome.kind != .final, attempt < retry.attempts else { throw error }
                try await pause(afterAttempt: attempt, outcome)
                // Looked up after the pause, so a job the provider did start has had time to be listed.
                if outcome.kind == .unknown,
                    let started = try? await jobs(limit: 20).first(where: { $0.trainingFile == request.trainingFile })
                {
                    return started
                }
            }
        }
    }

    /// The newest jobs, at most `limit` (up to 100).
    package func jobs(limit: Int = 20) async throws -> [FineTuningJob] {
        let count = min(max(limit, 1), 100)
        let route = path("/fine_tuning/jobs?limit=\(count)")
        let (answer, _) = try await retrying { try await transport.get(route, timeout: timeout) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).jobs(limit: count)
    }

    package func job(_ id: String) async throws -> FineTuningJob {
        let route = path("/fine_tuning/jobs/\(try checked(id))")
        let (answer, _) = try await retrying { try await transport.get(route, timeout: timeout) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).job()
    }

    /// The job's newest events, at most `limit` (up to 100), oldest first.
    package func events(_ id: String, limit: Int = 20) async throws -> [FineTuningEvent] {
        let count = min(max(limit, 1), 100)
        let route = path("/fine_tuning/jobs/\(try checked(id))/events?limit=\(count)")
        let (answer, _) = try await retrying { try await transport.get(route, timeout: timeout) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).events(limit: count)
            .reversed()
    }

    /// Asks the provider to stop the job; returns it as the provider then describes it.
    package func cancel(_ id: String) async throws -> FineTuningJob {
        let route = path("/fine_tuning/jobs/\(try checked(id))/cancel")
        let (answer, _) = try await retrying { try await transport.post(route, .object([:]), timeout: timeout) }
        return try FineTuningAnswer(json: answer, url: transport.url(route).absoluteString).job()
    }

    /// Polls the job every `pollInterval` until it ends, giving `progress` the job and the
    /// events new since the last call. Returns the succeeded job (with its tuned model's name).
    ///
    /// - Parameters:
    ///   - deadline: when to stop waiting (the job goes on); nil waits as long as it takes.
    ///   - progress: the job as last polled and the events new since the last call, oldest first.
    ///   - isStopped: asked between polls and during the pause; true ends the wait with
    ///     `CancellationError` (the job goes on), as cancelling the task does.
    /// - Throws: `FineTuningError.jobFailed` with the provider's reason, `.jobCancelled`,
    ///   `.noTunedModel`, `.stillRunning` at the deadline; `ModelError` when polling kept failing.
    package func wait(
        for id: String, pollInterval: Duration = .seconds(15), deadline: ContinuousClock.Instant? = nil,
        progress: (FineTuningJob, [FineTuningEvent]) -> Void = { _, _ in }, isStopped: () -> Bool = { false }
    ) async throws -> FineTuningJob {
        let started = ContinuousClock.now
        var newestSeen: String?
        var failedRounds = 0
        while true {
            if isStopped() { throw CancellationError() }
            let job: FineTuningJob
            do {
                job = try await self.job(id)
                failedRounds = 0
            } catch {
                // A job trains for an hour or more: an outage that outlasts one round of retries
                // is waited out over the next rounds too before the wait gives up.
                failedRounds += 1
                guard Outcome(error).kind != .final, failedRounds < retry.attempts else { throw error }
                try await nap(pollInterval, isStopped: isStopped)
                continue
            }
            let recent = try await latestEvents(id)
            // Events come newest last; the new ones follow the newest seen before (all of them
            // when it has scrolled out of the window), so memory stays one id however long the job.
            let fresh =
                newestSeen.flatMap { seen in recent.lastIndex { $0.id == seen } }.map {
                    Array(recent[(recent.index(after: $0))...])
                } ?? recent
            newestSeen = recent.last?.id ?? newestSeen
            progress(job, fresh)
            switch job.status {
            case .succeeded:
                guard job.fineTunedModel != nil else { throw FineTuningError.noTunedModel(job: id, url: url) }
                return job
            case .failed:
                let lastError = recent.last(where: { $0.level.lowercased() == "error" })?.message
                throw FineTuningError.jobFailed(job: id, url: url, message: job.error ?? lastError ?? "")
            case .cancelled:
                throw FineTuningError.jobCancelled(job: id, url: url)
            default:
                break
            }
            if let deadline, ContinuousClock.now + pollInterval > deadline {
                throw FineTuningError.stillRunning(
                    job: id, url: url, status: job.status, waitedSeconds: started.duration(to: .now).inSeconds)
            }
            try await nap(pollInterval, isStopped: isStopped)
        }
    }

    /// Sleeps `interval` in short naps, so a stop is noticed within a fraction of a second.
    private func nap(_ interval: Duration, isStopped: () -> Bool) async throws {
        let wake = ContinuousClock.now + interval
        while ContinuousClock.now < wake {
            if isStopped() { throw CancellationError() }
            try await Task.sleep(for: min(.milliseconds(200), ContinuousClock.now.duration(to: wake)))
        }
    }

    /// The events for a progress line: a failure to read them leaves the line without them
    /// rather than ending the wait for a job that is still training (and billed).
    private func latestEvents(_ id: String) async throws -> [FineTuningEvent] {
        do {
            return try await events(id)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return []
        }
    }

    private func checked(_ id: String) throws -> String {
        guard FineTuningAnswer.isIdentifier(id) else {
            throw InputError("\"\(id.prefix(80))\" is not a fine-tuning job id; job ids look like ftjob-abc123")
        }
        return id
    }

    // MARK: Retries

    /// What a failed request says about sending it again.
    private struct Outcome {
        enum Kind {
            /// The request surely had no effect (a 429, no connection).
            case notDone
            /// It may or may not have had its effect (a 5xx, a timeout, an answer cut short).
            case unknown
            /// Sending it again will not help (another 4xx, an answer pwb cannot read, cancellation).
            case final
        }

        var kind: Kind
        var retryAfter: Double?

        init(_ error: any Error) {
            switch error {
            case ModelError.status(429, _, _, let after): (kind, retryAfter) = (.notDone, after)
            case ModelError.status(let code, _, _, let after) where code >= 500: (kind, retryAfter) = (.unknown, after)
            case ModelError.timedOut, ModelError.truncated: kind = .unknown
            case let error as TransportError:
                switch error.reason {
                case .cannotConnect: kind = .notDone
                case .unsupportedScheme, .tooLarge, .malformed: kind = .final
                case .closedWithoutAnswer, .connectionLost, .truncated, .timedOut: kind = .unknown
                }
            default: kind = .final
            }
        }
    }

    /// Runs a request that is safe to repeat, again after any failure that is not final.
    private func retrying<T: Sendable>(_ call: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await call()
            } catch {
                let outcome = Outcome(error)
                attempt += 1
                guard outcome.kind != .final, attempt < retry.attempts else { throw error }
                try await pause(afterAttempt: attempt, outcome)
            }
        }
    }

    private func pause(afterAttempt attempt: Int, _ outcome: Outcome) async throws {
        try await Task.sleep(for: .seconds(retry.delay(afterAttempt: attempt - 1, retryAfter: outcome.retryAfter)))
    }
}
