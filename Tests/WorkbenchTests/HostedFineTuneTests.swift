import Foundation
import ModelRuntime
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// A workspace with an even-or-odd task and a configured model `m` whose provider is a stub of
/// OpenAI's (or Azure's) fine-tuning API beside a model that is right on 60% of numbers, and on
/// 95% under a tuned model's name.
final class HostedWorkspace {
    let folder: String
    let workspace: Workspace
    let api: StubFineTuningAPI
    let stub: StubServer
    let environment: [String: String]

    /// - Parameters:
    ///   - train: how many train cases (numbers from 100); dev has 40 (numbers from 200).
    init(
        flavor: StubFineTuningAPI.Flavor = .openAI, train: Int = 30, runningSteps: Int = 2,
        outcome: @escaping @Sendable (Int) -> StubFineTuningAPI.Outcome = { _ in .succeed },
        baseModel: String? = "gpt-4o-mini-2024-07-18"
    ) throws {
        folder = NSTemporaryDirectory() + "pwb-hosted-" + UUID().uuidString
        let api = StubFineTuningAPI(flavor: flavor, key: "sk-stub", runningSteps: runningSteps, outcome: outcome)
        self.api = api
        stub = try StubServer(model: .parity(name: "gpt-4o-mini-2024-07-18")) { api.handle($0) }
        var cases: [String] = []
        for (split, start, count) in [("train", 100, train), ("dev", 200, 40)] {
            for n in start..<(start + count) {
                cases.append(
                    #"{"id": "\#(split)-\#(n)", "vars": {"n": "\#(n)"}, "expected": "\#(n % 2 == 0 ? "even" : "odd")", "split": "\#(split)"}"#
                )
            }
        }
        let model: String
        switch flavor {
        case .openAI:
            model =
                #"{"provider": "openai", "endpoint": "\#(stub.url.absoluteString)/v1", "model": "gpt-4o-mini-2024-07-18", "api_key_env": "STUB_API_KEY"}"#
        case .azure(let version):
            let base = baseModel.map { #", "base_model": "\#($0)""# } ?? ""
            model =
                #"{"provider": "azure", "endpoint": "\#(stub.url.absoluteString)", "model": "mini-prod", "api_version": "\#(version)", "api_key_env": "STUB_API_KEY"\#(base)}"#
        }
        let files: [String: String] = [
            "templates/parity/ask.prompt": """
            ---
            evalset: parity
            max_tokens: 2
            stop: ["\\n"]
            ---
            Is {{n}} even or odd?
            Answer:
            """,
            "templates/parity/chatty.prompt": """
            ---
            evalset: parity
            mode: chat
            system: Answer even or odd.
            ---
            {{n}}
            """,
            "evalsets/parity.json": #"{"scorers": [{"type": "label", "labels": ["even", "odd"]}], "input": "n"}"#,
            "evalsets/parity.jsonl": cases.joined(separator: "\n"),
            ".pwb/config.json":
                #"{"models": {"m": \#(model), "local-ish": {"provider": "ollama", "endpoint": "http://127.0.0.1:1", "model": "x"}}}"#,
        ]
        for (path, text) in files {
            let url = URL(fileURLWithPath: folder + "/" + path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        workspace = try Workspace(root: folder)
        _ = try workspace.importFiles([])
        environment = ["STUB_API_KEY": "sk-stub", "HOME": folder]
    }

    deinit {
        stub.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    func options(_ configure: (inout HostedFineTuneOptions) -> Void = { _ in }) -> HostedFineTuneOptions {
        var options = HostedFineTuneOptions(evalset: "parity", model: "m")
        options.template = "parity/ask"
        options.pollInterval = .milliseconds(10)
        configure(&options)
        return options
    }

    func plan(_ configure: (inout HostedFineTuneOptions) -> Void = { _ in }) throws -> HostedFineTunePlan {
        try workspace.hostedFineTunePlan(options(configure), environment: environment)
    }

    func run(
        _ plan: HostedFineTunePlan, stop: StopRequest? = nil, progress: (HostedFineTuneProgress) -> Void = { _ in }
    )
        async throws -> HostedFineTuneResult
    {
        try await workspace.hostedFineTune(plan, environment: environment, stop: stop, progress: progress)
    }
}

@Suite struct HostedFineTuneTests {
    @Test func thePlanSaysWhatWouldBeSentAndCostAndSendsNothing() throws {
        let work = try HostedWorkspace()
        let plan = try work.plan { $0.priceTrainPerMillion = 25 }
        #expect(work.stub.requests.isEmpty)
        #expect(plan.action == .train)
        #expect(plan.spends)
        // 30 train cases: every fifth (6) held out for validation.
        #expect(plan.trainExamples == 24)
        #expect(plan.validationExamples == 6)
        #expect(plan.baseModel == "gpt-4o-mini-2024-07-18")
        #expect(plan.epochs == .auto)
        #expect(plan.estimatedEpochs == 4, "OpenAI's auto for 24 examples: 100 / 24")
        // "Is 1NN even or odd?\nAnswer:" is 27 characters (7 tokens) and the answer 1 or 2 (1 token),
        // each message 4 more and the example 3: 19 tokens an example.
        #expect(plan.tokensPerEpoch == 24 * 19)
        #expect(plan.estimatedTrainedTokens == 24 * 19 * 4)
        #expect(plan.estimatedCostUSD == Double(24 * 19 * 4) * 25 / 1_000_000)
        #expect(plan.summary.contains { $0.hasPrefix("cost: about $0.05 at $25 per million trained tokens") })
        #expect(
            plan.summary.contains { $0.contains("24 train cases") && $0.contains("6 more held out for validation") })
        let fixed = try work.plan { $0.epochs = 2 }
        #expect(fixed.estimatedEpochs == 2)
        #expect(fixed.name != plan.name, "other settings, another record")
    }

    @Test func aJobTrainsOnTheLocalTrainersPairsAsChatAndIsRecordedLikeAnAdapter() async throws {
        let work = try HostedWorkspace(runningSteps: 2)
        let plan = try work.plan {
            $0.priceTrainPerMillion = 25
            $0.seed = 7
        }
        let phases = Mutex<[HostedFineTuneProgress.Phase]>([])
        let statuses = Mutex<[FineTuningJob.Status]>([])
        let messages = Mutex<[String]>([])
        let result = try await work.run(plan) { progress in
            phases.withLock { if $0.last != progress.phase { $0.append(progress.phase) } }
            if let status = progress.status { statuses.withLock { $0.append(status) } }
            messages.withLock { $0 += progress.events.map(\.message) }
        }
        #expect(phases.withLock { $0 } == [.uploading, .checkingFiles, .starting, .training])
        #expect(statuses.withLock { $0 } == [.queued, .running, .running, .succeeded])
        #expect(messages.withLock { $0 }.last == "The job has successfully completed")

        // The files: the local trainer's prompts as the user's turn, the label as the answer.
        let evalset = try work.workspace.library.evalset(named: "parity")
        let train = try work.workspace.store.cases(evalsetID: evalset.record.id, split: .train)
        let revision = try work.workspace.library.resolve(RevisionReference(parsing: "parity/ask"))
        let pairs = try work.workspace.trainingPairs(train, revision: revision)
        #expect(work.api.uploads.count == 2)
        let (training, validation) = (work.api.uploads[0], work.api.uploads[1])
        #expect(training.purpose == "fine-tune" && validation.purpose == "fine-tune")
        #expect(training.lines.count == 24)
        #expect(validation.lines.count == 6)
        let sentPrompts = (training.lines + validation.lines).compactMap {
            $0["messages"]?.arrayValue?.first?["content"]?.stringValue
        }
        let localPrompts = pairs.compactMap { pair -> String? in
            if case .text(let text) = pair.prompt { return text }
            return nil
        }
        #expect(Set(sentPrompts) == Set(localPrompts))
        for line in training.lines + validation.lines {
            let turns = try #require(line["messages"]?.arrayValue)
            #expect(turns.map { $0["role"]?.stringValue } == ["user", "assistant"])
            let number = Int(turns[0]["content"]?.stringValue?.split(separator: " ")[1] ?? "") ?? -1
            // Not " even\n": a chat turn begins and ends by itself.
            #expect(turns[1]["content"]?.stringValue == (number % 2 == 0 ? "even" : "odd"))
        }
        // Every fifth train case is the validation part.
        #expect(validation.lines[0]["messages"]?.arrayValue?.first?["content"]?.stringValue?.contains("104") == true)

        let job = try #require(work.api.jobRequests.first)
        #expect(job["model"] == "gpt-4o-mini-2024-07-18")
        #expect(job["training_file"]?.stringValue == training.id)
        #expect(job["validation_file"]?.stringValue == validation.id)
        #expect(job["hyperparameters"]?["n_epochs"] == "auto")
        #expect(job["suffix"] == "pwb-ask")
        #expect(job["seed"] == 7)

        // The record: what the provider reports, the cost at the price given.
        let trainedWords = training.lines.reduce(0) { total, line in
            total
                + (line["messages"]?.arrayValue ?? []).reduce(0) {
                    $0 + StubModel.tokens($1["content"]?.stringValue ?? "")
                }
        }
        #expect(result.tunedModel.hasPrefix("ft:gpt-4o-mini-2024-07-18:stub-org:pwb-ask:"))
        #expect(!result.reused)
        let record = try #require(try work.workspace.store.adapter(named: plan.name))
        #expect(record.isHosted)
        #expect(record.hash == plan.dataHash)
        #expect(record.baseModel == "openai:gpt-4o-mini-2024-07-18")
        let hosted = try #require(record.hosted)
        #expect(hosted.fineTunedModel == result.tunedModel)
        #expect(hosted.jobID.hasPrefix("ftjob-"))
        #expect(hosted.trainedTokens == trainedWords * 3)
        #expect(hosted.hyperparameters == ["n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8])
        #expect(hosted.wallSeconds == 3600)
        #expect(hosted.costUSD == Double(trainedWords * 3) * 25 / 1_000_000)
        #expect(hosted.settings.dataHash == plan.dataHash)
        #expect(hosted.trainInputs.count == 30)
        // Read back through its JSON, the record is the same.
        #expect(HostedTraining(json: hosted.json) == hosted)

        // The tuned model answers under its name: most dev numbers right, where the base is at 0.6.
        let tuned = try #require(result.tunedConfiguration).client(http: HTTPClient(), environment: work.environment)
        let base = try #require(try work.workspace.runtime.configuration(environment: work.environment).select("m"))
            .client(http: HTTPClient(), environment: work.environment)
        var right = (tuned: 0, base: 0)
        for n in 200..<240 {
            let request = CompletionRequest(prompt: .chat([ChatMessage(role: "user", content: "Is \(n) even or odd?")]))
            let expected = n % 2 == 0 ? "even" : "odd"
            if try await tuned.complete(request).text == expected { right.tuned += 1 }
            if try await base.complete(request).text == expected { right.base += 1 }
        }
        #expect(right.tuned >= 36 && right.base <= 28, "\(right)")
    }

    @Test func askingAgainWithTheSameDataReusesTheTunedModelAndSendsNothing() async throws {
        let work = try HostedWorkspace()
        let first = try await work.run(try work.plan())
        let sent = work.stub.requests.count
        let again = try work.plan()
        #expect(again.action == .reuse(tunedModel: first.tunedModel))
        #expect(!again.spends)
        let reused = try await work.run(again)
        #expect(reused.reused)
        #expect(reused.tunedModel == first.tunedModel)
        #expect(work.stub.requests.count == sent)
        // Other data is another job.
        #expect(try work.plan { $0.examples = 20 }.action == .train)
    }

    @Test func aStopLeavesTheJobRunningAndAskingAgainWaitsForIt() async throws {
        let work = try HostedWorkspace(runningSteps: 3)
        let plan = try work.plan()
        let stop = StopRequest()
        let error = await #expect(throws: HostedFineTuneStopped.self) {
            try await work.run(plan, stop: stop) { progress in
                if progress.status == .running { stop.request() }
            }
        }
        let job = try #require(error?.job)
        #expect(error?.cancelled == false)
        #expect(
            error?.description.contains("fine-tuning job \(job) goes on at \(work.stub.url.absoluteString)/v1") == true)
        #expect(
            error?.description.contains("pwb finetune parity --model m --template parity/ask waits for it again")
                == true)
        #expect(work.api.cancelledJobs.isEmpty)

        let resumed = try work.plan()
        #expect(resumed.action == .resume(job: job))
        #expect(!resumed.spends)
        let result = try await work.run(resumed)
        #expect(result.tunedModel.hasSuffix(String(job.suffix(8))))
        #expect(work.api.jobRequests.count == 1, "no second job")
        #expect(work.api.uploads.count == 2, "no second upload")
        #expect(try work.plan().action == .reuse(tunedModel: result.tunedModel))
    }

    @Test func aStopBeforeTheJobStartsSpendsNothing() async throws {
        let work = try HostedWorkspace(flavor: .azure(apiVersion: "2024-10-21"))
        let stop = StopRequest()
        let error = await #expect(throws: HostedFineTuneStopped.self) {
            try await work.run(try work.plan(), stop: stop) { progress in
                if progress.phase == .checkingFiles { stop.request() }
            }
        }
        #expect(error?.job == nil)
        #expect(error?.description.contains("stopped before a fine-tuning job was started") == true)
        #expect(work.api.uploads.count == 2)
        #expect(work.api.jobRequests.isEmpty)
        #expect(try work.plan().action == .train)
    }

    @Test func aStopCancelsTheJobWhenAskedAndAskingAgainStartsAfresh() async throws {
        let work = try HostedWorkspace(outcome: { _ in .neverEnd })
        let plan = try work.plan { $0.cancelOnStop = true }
        let stop = StopRequest()
        let error = await #expect(throws: HostedFineTuneStopped.self) {
            try await work.run(plan, stop: stop) { progress in
                if progress.status == .running { stop.request() }
            }
        }
        #expect(error?.cancelled == true)
        #expect(work.api.cancelledJobs == [error?.job ?? ""])
        #expect(error?.description.contains("was cancelled; asking again starts a new one") == true)
        #expect(try work.plan().action == .train)
    }

    @Test func aJobUnderWayIsCancelledWhenAskedAndForgotten() async throws {
        let work = try HostedWorkspace(outcome: { _ in .neverEnd })
        let nothing = await #expect(throws: Refusal.self) {
            try await work.workspace.cancelHostedFineTune(try work.plan(), environment: work.environment)
        }
        #expect(
            nothing?.description.contains("no fine-tuning job for this data and these settings is under way") == true)
        let stop = StopRequest()
        await #expect(throws: HostedFineTuneStopped.self) {
            try await work.run(try work.plan(), stop: stop) { if $0.status == .running { stop.request() } }
        }
        let plan = try work.plan()
        guard case .resume(let id) = plan.action else {
            Issue.record("no job to resume: \(plan.action)")
            return
        }
        let job = try await work.workspace.cancelHostedFineTune(plan, environment: work.environment)
        #expect(job.id == id && job.status == .cancelled)
        #expect(work.api.cancelledJobs == [id])
        #expect(try work.plan().action == .train)
    }

    @Test func aTaskCancelledWhileWaitingLeavesTheJobRunning() async throws {
        let work = try HostedWorkspace(outcome: { _ in .neverEnd })
        let plan = try work.plan()
        let (folder, environment) = (work.folder, work.environment)
        // A workspace of its own in the task: a workspace belongs to one task at a time.
        let task = Task { try await Workspace(root: folder).hostedFineTune(plan, environment: environment) }
        for _ in 0..<500 where work.api.jobRequests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: HostedFineTuneStopped.self) { try await task.value }
        #expect(work.api.cancelledJobs.isEmpty)
        guard case .resume = try work.plan().action else {
            Issue.record("the job was not kept to wait for")
            return
        }
    }

    @Test func aFailedJobSaysWhyAndIsForgotten() async throws {
        let work = try HostedWorkspace(outcome: { _ in
            .fail("Training file has 3 examples with a missing assistant message.")
        })
        let plan = try work.plan()
        let error = await #expect(throws: FineTuningError.self) { try await work.run(plan) }
        #expect(
            error?.description.hasSuffix(
                "failed: Training file has 3 examples with a missing assistant message. (invalid_training_file)")
                == true,
            "\(String(describing: error))")
        #expect(try work.workspace.store.adapter(named: plan.name) == nil)
        #expect(try work.plan().action == .train)
    }

    @Test func onAzureTheJobGoesThroughTheDataPlaneAndTheDeploymentStepIsGiven() async throws {
        let work = try HostedWorkspace(flavor: .azure(apiVersion: "2024-10-21"))
        let plan = try work.plan()
        #expect(plan.baseModel == "gpt-4o-mini-2024-07-18")
        let result = try await work.run(plan)
        #expect(result.tunedModel.hasPrefix("gpt-4o-mini-2024-07-18.ft-"))
        #expect(result.tunedConfiguration == nil)
        let step = try #require(result.deployment?.description)
        #expect(step.contains("az cognitiveservices account deployment create"))
        #expect(step.contains("--name 127 "), "the resource's name, from the endpoint's host")
        #expect(step.contains("--model-name \(result.tunedModel) --model-version 1 --model-format OpenAI"))
        #expect(step.contains("measure it with finetuned-model"))
        for request in work.stub.requests {
            #expect(request.path.hasPrefix("/openai/"))
            #expect(request.path.hasSuffix("api-version=2024-10-21"))
            #expect(request.headers["api-key"] == "sk-stub")
            #expect(request.headers["authorization"] == nil)
        }
        #expect(try work.workspace.store.adapter(named: plan.name)?.baseModel == "azure:gpt-4o-mini-2024-07-18")
    }

    @Test func aChatVariantsSystemMessageGoesIntoEveryExample() async throws {
        let work = try HostedWorkspace()
        _ = try await work.run(try work.plan { $0.template = "parity/chatty" })
        let line = try #require(work.api.uploads.first?.lines.first)
        #expect(
            line["messages"] == [
                ["role": "system", "content": "Answer even or odd."], ["role": "user", "content": "100"],
                ["role": "assistant", "content": "even"],
            ])
    }

    @Test func whatCannotBeAHostedJobIsRefusedBeforeAnythingIsSent() throws {
        let work = try HostedWorkspace(train: 9)
        let tooFew = #expect(throws: Refusal.self) { try work.plan() }
        #expect(tooFew?.description.contains("has 9 train cases; a hosted fine-tuning job needs at least 10") == true)
        let ollama = #expect(throws: Refusal.self) { try work.plan { $0.model = "local-ish" } }
        #expect(ollama?.description.contains("served by ollama, which has no hosted fine-tuning API") == true)
        let local = #expect(throws: Refusal.self) { try work.plan { $0.model = "local" } }
        #expect(local?.description.contains("is not a model of .pwb/config.json") == true)
        let unknown = #expect(throws: Refusal.self) { try work.plan { $0.model = "nope" } }
        #expect(unknown?.description.contains("there is no model \"nope\"") == true)
        let enough = try HostedWorkspace()
        let suffix = #expect(throws: Refusal.self) { try enough.plan { $0.suffix = "a b" } }
        #expect(suffix?.description.contains("cannot go into a model name") == true)
        let noBase = try HostedWorkspace(flavor: .azure(apiVersion: "2024-10-21"), baseModel: nil)
        let azure = #expect(throws: InputError.self) { try noBase.plan() }
        #expect(azure?.field == "models.m.base_model")
        #expect(work.stub.requests.isEmpty && enough.stub.requests.isEmpty && noBase.stub.requests.isEmpty)
    }

    @Test func twelveTrainCasesHoldTwoOutAndElevenHoldNoneOut() throws {
        #expect(try HostedWorkspace(train: 12).plan().validationExamples == 2)
        let eleven = try HostedWorkspace(train: 11).plan()
        #expect(eleven.validationExamples == 0)
        #expect(eleven.trainExamples == 11)
    }
}
