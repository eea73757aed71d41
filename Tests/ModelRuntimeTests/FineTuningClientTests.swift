import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// The hosted fine-tuning client against a stub of OpenAI's and Azure's APIs: upload, job
/// creation, polling to the end, failure, rate limits, cancellation and what a server may send.
struct FineTuningClientTests {
    static let quick = RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.05)
    static let data = Array(
        """
        {"messages": [{"role": "user", "content": "Is 4 even or odd?"}, {"role": "assistant", "content": "even"}]}
        {"messages": [{"role": "user", "content": "Is 7 even or odd?"}, {"role": "assistant", "content": "odd"}]}

        """.utf8)

    /// A stub server with `api` answering first, `fault` before it, and a client for it.
    func setUp(
        _ api: StubFineTuningAPI, key: String? = "sk-stub",
        fault: @escaping @Sendable (StubRequest) -> StubReply? = { _ in nil }
    ) throws -> (StubServer, FineTuningClient) {
        let server = try StubServer(model: .parity()) { request in fault(request) ?? api.handle(request) }
        let client: FineTuningClient
        switch api.flavor {
        case .openAI:
            client = FineTuningClient(
                api: .openAI, endpoint: server.url.appendingPathComponent("v1"), apiKey: key, http: HTTPClient(),
                timeout: 10, retry: Self.quick)
        case .azure(let version):
            client = FineTuningClient(
                api: .azure(apiVersion: version), endpoint: server.url, apiKey: key, http: HTTPClient(), timeout: 10,
                retry: Self.quick)
        }
        return (server, client)
    }

    /// Uploads the data and starts a job on it with three epochs.
    func start(_ client: FineTuningClient, validation: Bool = true) async throws -> FineTuningJob {
        let training = try await client.waitUntilReady(
            try await client.upload(Self.data, filename: "train.jsonl"), pollInterval: .milliseconds(10))
        var request = FineTuningJobRequest(
            model: "gpt-4o-mini-2024-07-18", trainingFile: training.id, epochs: .count(3), suffix: "pwb-parity")
        if validation {
            request.validationFile = try await client.upload(Self.data, filename: "validation.jsonl").id
        }
        return try await client.createJob(request)
    }

    @Test func aJobIsUploadedCreatedAndFollowedToItsTunedModel() async throws {
        let api = StubFineTuningAPI(runningSteps: 3)
        let (server, client) = try setUp(api)
        defer { server.stop() }
        let created = try await start(client)
        #expect(created.status == .validatingFiles)
        #expect(created.trainingFile == api.uploads[0].id)
        #expect(created.validationFile == api.uploads[1].id)

        // What was sent: a multipart upload with the purpose, and the job's settings.
        #expect(api.uploads.map(\.purpose) == ["fine-tune", "fine-tune"])
        #expect(api.uploads.map(\.filename) == ["train.jsonl", "validation.jsonl"])
        #expect(api.uploads[0].content == Self.data)
        let body = try #require(api.jobRequests.first)
        #expect(body["model"] == "gpt-4o-mini-2024-07-18")
        #expect(body["training_file"]?.stringValue == api.uploads[0].id)
        #expect(body["validation_file"]?.stringValue == api.uploads[1].id)
        #expect(body["hyperparameters"]?["n_epochs"] == 3)
        #expect(body["suffix"] == "pwb-parity")
        for request in server.requests {
            #expect(request.headers["authorization"] == "Bearer sk-stub")
            #expect(request.path.hasPrefix("/v1/files") || request.path.hasPrefix("/v1/fine_tuning/jobs"))
        }

        let seen = Mutex<[(FineTuningJob.Status, [String])]>([])
        let done = try await client.wait(for: created.id, pollInterval: .milliseconds(10)) { job, events in
            seen.withLock { $0.append((job.status, events.map(\.message))) }
        }
        #expect(done.status == .succeeded)
        #expect(done.fineTunedModel == "ft:gpt-4o-mini-2024-07-18:stub-org:pwb-parity:\(created.id.suffix(8))")
        // Two lines of 5 + 1 words, times 3 epochs.
        #expect(done.trainedTokens == 36)
        #expect(done.hyperparameters == FineTuningHyperparameters(epochs: 3, batchSize: 1, learningRateMultiplier: 1.8))
        let progress = seen.withLock { $0 }
        #expect(progress.map(\.0) == [.queued, .running, .running, .running, .succeeded])
        let messages = progress.flatMap(\.1)
        // Every event once, oldest first.
        #expect(messages.first == "Created fine-tuning job: \(created.id)")
        #expect(messages.last == "The job has successfully completed")
        #expect(Set(messages).count == messages.count)
        #expect(messages.contains("Step 3/3: training loss=0.333"))
    }

    @Test func aFailedJobSaysWhyInOneSentence() async throws {
        let api = StubFineTuningAPI(runningSteps: 1) { _ in
            .fail(
                "The job failed due to an invalid training file.\nExpected file to have JSONL format with prompt/completion keys."
            )
        }
        let (server, client) = try setUp(api)
        defer { server.stop() }
        let job = try await start(client, validation: false)
        let error = await #expect(throws: FineTuningError.self) {
            try await client.wait(for: job.id, pollInterval: .milliseconds(10))
        }
        let text = try #require(error?.description)
        #expect(
            text.hasPrefix(
                "fine-tuning job \(job.id) at \(client.url) failed: The job failed due to an invalid training file."))
        #expect(text.contains("Expected file to have JSONL format"))
        #expect(text.hasSuffix("(invalid_training_file)"))
        #expect(!text.contains("\n"))
    }

    @Test func rateLimitsWhilePollingAreWaitedOutAsRetryAfterSays() async throws {
        let api = StubFineTuningAPI(runningSteps: 1)
        let polls = Counter()
        let (server, client) = try setUp(api) { request in
            // The second look at the job is refused twice, asking for a second's wait each time.
            guard request.method == "GET", request.path.contains("/fine_tuning/jobs/"),
                !request.path.contains("/events")
            else { return nil }
            return [1, 2].contains(polls.next()) ? .rateLimited(retryAfter: "1") : nil
        }
        defer { server.stop() }
        let job = try await start(client, validation: false)
        let started = ContinuousClock.now
        let done = try await client.wait(for: job.id, pollInterval: .milliseconds(10))
        #expect(done.status == .succeeded)
        #expect(started.duration(to: .now) >= .seconds(2))
        let gets = server.requests.filter {
            $0.method == "GET" && $0.path.hasPrefix("/v1/fine_tuning/jobs/ftjob") && !$0.path.contains("events")
        }
        #expect(gets.count == 3 + 2, "three steps to its end, and the two refused")
    }

    @Test func anOutageLongerThanOneRoundOfRetriesDoesNotEndTheWait() async throws {
        let api = StubFineTuningAPI(runningSteps: 1)
        let polls = Counter()
        let (server, client) = try setUp(api) { request in
            guard request.method == "GET", request.path.contains("/fine_tuning/jobs/ftjob"),
                !request.path.contains("/events")
            else { return nil }
            // Three refusals (one round of retries) and then two more.
            return (1...5).contains(polls.next()) ? .status(503, "upstream unavailable") : nil
        }
        defer { server.stop() }
        let job = try await start(client, validation: false)
        #expect(try await client.wait(for: job.id, pollInterval: .milliseconds(10)).status == .succeeded)
    }

    @Test func aServerThatStaysDownEndsTheWaitNamingTheURL() async throws {
        let api = StubFineTuningAPI()
        let (server, client) = try setUp(api) { request in
            request.method == "GET" && request.path.contains("/fine_tuning/jobs/ftjob") ? .status(500, "down") : nil
        }
        defer { server.stop() }
        let job = try await start(client, validation: false)
        let error = await #expect(throws: ModelError.self) {
            try await client.wait(for: job.id, pollInterval: .milliseconds(10))
        }
        #expect(error?.description.contains("\(client.url)/fine_tuning/jobs/\(job.id) answered HTTP 500: down") == true)
    }

    @Test func aJobCancelledHereEndsTheWaitAsCancelled() async throws {
        let api = StubFineTuningAPI(outcome: { _ in .neverEnd })
        let (server, client) = try setUp(api)
        defer { server.stop() }
        let job = try await start(client, validation: false)
        _ = try await client.job(job.id)
        let cancelled = try await client.cancel(job.id)
        #expect(cancelled.status == .cancelled)
        #expect(api.cancelledJobs == [job.id])
        #expect(server.requests.last?.method == "POST")
        #expect(server.requests.last?.path == "/v1/fine_tuning/jobs/\(job.id)/cancel")
        let error = await #expect(throws: FineTuningError.self) {
            try await client.wait(for: job.id, pollInterval: .milliseconds(10))
        }
        #expect(error == .jobCancelled(job: job.id, url: client.url))
    }

    @Test func aStopEndsTheWaitPromptlyAndLeavesTheJobRunning() async throws {
        let api = StubFineTuningAPI(outcome: { _ in .neverEnd })
        let (server, client) = try setUp(api)
        defer { server.stop() }
        let job = try await start(client, validation: false)
        let stop = Mutex(false)
        let polls = Mutex(0)
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) {
            try await client.wait(
                for: job.id, pollInterval: .seconds(30),
                progress: { _, _ in
                    polls.withLock { $0 += 1 }
                    stop.withLock { $0 = true }
                }, isStopped: { stop.withLock { $0 } })
        }
        #expect(started.duration(to: .now) < .seconds(5), "not the 30 s between polls")
        #expect(polls.withLock { $0 } == 1)
        #expect(api.cancelledJobs.isEmpty)
        // Task cancellation does the same.
        let task = Task { try await client.wait(for: job.id, pollInterval: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(api.cancelledJobs.isEmpty)
    }

    @Test func theDeadlineEndsTheWaitSayingTheJobGoesOn() async throws {
        let api = StubFineTuningAPI(outcome: { _ in .neverEnd })
        let (server, client) = try setUp(api)
        defer { server.stop() }
        let job = try await start(client, validation: false)
        let error = await #expect(throws: FineTuningError.self) {
            try await client.wait(
                for: job.id, pollInterval: .milliseconds(50), deadline: ContinuousClock.now + .milliseconds(300))
        }
        guard case .stillRunning(let id, _, let status, _)? = error else {
            Issue.record("not stillRunning: \(String(describing: error))")
            return
        }
        #expect(id == job.id)
        #expect(status == .running)
        #expect(error?.description.contains("it goes on, and asking again waits for it") == true)
    }

    @Test func aJobCreationWhoseAnswerWasLostIsFoundNotStartedTwice() async throws {
        let api = StubFineTuningAPI()
        let creations = Counter()
        let (server, client) = try setUp(api) { request in
            // The job is created, but the answer is a 502 from a proxy on the way back.
            guard request.method == "POST", request.path == "/v1/fine_tuning/jobs", creations.next() == 0 else {
                return nil
            }
            _ = api.handle(request)
            return .status(502, "bad gateway")
        }
        defer { server.stop() }
        let job = try await start(client, validation: false)
        #expect(api.jobRequests.count == 1)
        #expect(job.trainingFile == api.uploads[0].id)
        #expect(server.requests.contains { $0.method == "GET" && $0.path.hasPrefix("/v1/fine_tuning/jobs?limit=") })
    }

    @Test func aRateLimitedJobCreationIsSentAgain() async throws {
        let api = StubFineTuningAPI()
        let creations = Counter()
        let (server, client) = try setUp(api) { request in
            request.method == "POST" && request.path == "/v1/fine_tuning/jobs" && creations.next() == 0
                ? .rateLimited(retryAfter: "0") : nil
        }
        defer { server.stop() }
        _ = try await start(client, validation: false)
        #expect(api.jobRequests.count == 1)
        #expect(server.requests.filter { $0.path == "/v1/fine_tuning/jobs" }.count == 2)
    }

    @Test func azureUsesItsPathsTheAPIKeyHeaderAndTheAPIVersion() async throws {
        let api = StubFineTuningAPI(flavor: .azure(apiVersion: "2024-10-21"), key: "az-key", runningSteps: 1)
        let (server, client) = try setUp(api, key: "az-key")
        defer { server.stop() }
        let uploaded = try await client.upload(Self.data, filename: "train.jsonl")
        #expect(uploaded.isBeingChecked, "Azure checks a file first: \(String(describing: uploaded.status))")
        let ready = try await client.waitUntilReady(uploaded, pollInterval: .milliseconds(10))
        #expect(ready.status == "processed")
        let job = try await client.createJob(
            FineTuningJobRequest(model: "gpt-4o-mini-2024-07-18", trainingFile: ready.id, suffix: "pwb"))
        #expect(api.jobRequests.first?["hyperparameters"]?["n_epochs"] == "auto")
        let done = try await client.wait(for: job.id, pollInterval: .milliseconds(10))
        #expect(done.fineTunedModel == "gpt-4o-mini-2024-07-18.ft-\(job.id.suffix(8))")
        #expect(done.hyperparameters.epochs == 3)
        _ = try await client.cancel(job.id)
        let paths = Set(server.requests.map { "\($0.method) \($0.path)" })
        #expect(
            paths == [
                "POST /openai/files?api-version=2024-10-21",
                "GET /openai/files/\(ready.id)?api-version=2024-10-21",
                "POST /openai/fine_tuning/jobs?api-version=2024-10-21",
                "GET /openai/fine_tuning/jobs/\(job.id)?api-version=2024-10-21",
                "GET /openai/fine_tuning/jobs/\(job.id)/events?limit=20&api-version=2024-10-21",
                "POST /openai/fine_tuning/jobs/\(job.id)/cancel?api-version=2024-10-21",
            ])
        for request in server.requests {
            #expect(request.headers["api-key"] == "az-key")
            #expect(request.headers["authorization"] == nil)
        }
    }

    @Test func azureRefusesAWrongAPIVersionOrKey() async throws {
        let api = StubFineTuningAPI(flavor: .azure(apiVersion: "2024-10-21"), key: "az-key")
        let server = try StubServer(model: .parity()) { api.handle($0) }
        defer { server.stop() }
        let wrongVersion = FineTuningClient(
            api: .azure(apiVersion: "2023-05-15"), endpoint: server.url, apiKey: "az-key", http: HTTPClient(),
            retry: Self.quick)
        let notFound = await #expect(throws: ModelError.self) { try await wrongVersion.jobs() }
        #expect(notFound?.isConfigurationRefusal == true)
        let wrongKey = FineTuningClient(
            api: .azure(apiVersion: "2024-10-21"), endpoint: server.url, apiKey: "nope", http: HTTPClient(),
            retry: Self.quick)
        let refused = await #expect(throws: ModelError.self) { try await wrongKey.jobs() }
        #expect(refused?.description.contains("answered HTTP 401") == true)
        #expect(refused?.description.contains("nope") == false)
    }

    @Test func aFileTheProviderRefusesSaysWhy() async throws {
        let (server, client) = try setUp(StubFineTuningAPI()) { request in
            request.method == "POST" && request.path == "/v1/files"
                ? .json([
                    "id": "file-bad", "object": "file", "status": "error",
                    "status_details": "Line 3: missing \"messages\".",
                ]) : nil
        }
        defer { server.stop() }
        let file = try await client.upload(Self.data, filename: "train.jsonl")
        let error = await #expect(throws: FineTuningError.self) { try await client.waitUntilReady(file) }
        #expect(
            error?.description == "\(client.url) refused the fine-tuning data file-bad: Line 3: missing \"messages\".")
    }

    /// Answers no real provider sends, each refused naming the URL and the field.
    static let unbelievable: [(String, JSONValue, String)] = [
        ("a huge token count", ["trained_tokens": 1e300], "trained_tokens is"),
        ("a negative token count", ["trained_tokens": -5], "trained_tokens is"),
        ("a fractional epoch count", ["hyperparameters": ["n_epochs": 2.5]], "n_epochs is"),
        ("ten thousand epochs", ["hyperparameters": ["n_epochs": 10_000]], "n_epochs is"),
        (
            "a learning rate of infinity's neighbour", ["hyperparameters": ["learning_rate_multiplier": 1e308]],
            "learning rate"
        ),
        ("an id that climbs out of its path", ["id": "../../files"], "\"id\" is not an id"),
        ("a tuned model with a line break", ["fine_tuned_model": "ft:x\r\nSet-Cookie: a"], "not a model name"),
        ("a date after the year 5000", ["created_at": 1e12], "\"created_at\" is"),
        ("no status", ["status": .null], "no \"status\""),
    ]

    @Test(arguments: unbelievable.indices)
    func anUnbelievableJobIsRefusedNamingTheURL(_ index: Int) async throws {
        let (name, override, words) = Self.unbelievable[index]
        let (server, client) = try setUp(StubFineTuningAPI()) { request in
            guard request.method == "GET", request.path == "/v1/fine_tuning/jobs/ftjob-x" else { return nil }
            var job: [String: JSONValue] = [
                "id": "ftjob-x", "status": "succeeded", "fine_tuned_model": "ft:m:o:s:x", "trained_tokens": 10,
            ]
            job.merge(override.objectValue ?? [:]) { _, new in new }
            return .json(.object(job))
        }
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self, "\(name)") { try await client.job("ftjob-x") }
        #expect(
            error?.description.contains("\(client.url)/fine_tuning/jobs/ftjob-x sent an answer pwb cannot read")
                == true, "\(name)")
        #expect(error?.description.contains(words) == true, "\(name): \(String(describing: error))")
    }

    @Test func aFloodOfLongEventsIsCutToSize() async throws {
        let long = String(repeating: "loss ", count: 20_000) + "\u{1B}[2J\nend"
        let (server, client) = try setUp(StubFineTuningAPI()) { request in
            guard request.path.hasPrefix("/v1/fine_tuning/jobs/ftjob-x/events") else { return nil }
            return .json([
                "data": .array(
                    (0..<150).map { ["id": .string("ev-\($0)"), "message": .string(long), "level": "info"] })
            ])
        }
        defer { server.stop() }
        let events = try await client.events("ftjob-x", limit: 1000)
        #expect(events.count == 100)
        #expect(
            events.allSatisfy {
                $0.message.count <= 300 && !$0.message.contains("\n") && !$0.message.contains("\u{1B}")
            })
        #expect(events.first?.id == "ev-99", "oldest first")
    }

    @Test func aJobIDThatIsNotOneIsRefusedBeforeAnythingIsSent() async throws {
        let (server, client) = try setUp(StubFineTuningAPI())
        defer { server.stop() }
        let error = await #expect(throws: InputError.self) { try await client.job("ftjob-1/../../files") }
        #expect(error?.description.contains("is not a fine-tuning job id") == true)
        #expect(server.requests.isEmpty)
    }
}
