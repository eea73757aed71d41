import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension Workspace {
    /// What a hosted fine-tuning job for `options` would send and cost, and whether one ran
    /// before on the same data and settings (to reuse its model, or wait for it). Sends nothing.
    ///
    /// The data is the local trainer's (`trainingPairs`: each train case's zero-shot prompt as
    /// `pwb eval` renders it, and its expected answer), written as OpenAI chat examples; every
    /// fifth train case goes to a validation file instead, when at least 10 remain to train on.
    package func hostedFineTunePlan(_ options: HostedFineTuneOptions, environment: [String: String]) throws
        -> HostedFineTunePlan
    {
        let configuration = try hostedModel(options.model, environment: environment)
        let baseModel = try configuration.fineTuningBaseModel()
        let evalset = try library.evalset(named: options.evalset)
        let revision = try fineTuningRevision(evalset: evalset, reference: options.template)
        let train = try hostedTrainCases(options, evalset: evalset)
        if let epochs = options.epochs, !(1...50).contains(epochs) {
            throw Refusal(
                "\(setting: "epochs") \(epochs) is out of range; give 1 to 50, or leave it out for the provider's choice"
            )
        }
        if let price = options.priceTrainPerMillion, !(price.isFinite && price >= 0 && price < 1_000_000) {
            throw Refusal("\(setting: "price-train") must be dollars per million trained tokens, 0 or more")
        }
        let suffix = try Workspace.jobSuffix(options.suffix, variant: revision.variant.name)
        try checkVariables([revision], cases: train, evalset: evalset.name)
        let data = try HostedTrainingData(try chatExamples(train, revision: revision), revision: revision.reference)
        let epochs = options.epochs.map(FineTuningEpochs.count) ?? .auto

        let settings = HostedTraining.Settings(
            provider: configuration.provider.rawValue, endpoint: configuration.endpoints[0].absoluteString,
            baseModel: baseModel, epochs: epochs.description, suffix: suffix, seed: options.seed,
            examples: data.trainExamples, validationExamples: data.validationExamples, dataHash: data.hash,
            revision: revision.reference)
        let name = Workspace.hostedName(
            variant: revision.variant.name, model: configuration.name, examples: train.count,
            settings: HostedTraining(settings: settings, jobID: "", status: "", configuredModel: "").settingsJSON)
        // What it was taught (validation cases included: the job reads them too), so that no
        // evaluation scores the tuned model on those cases.
        let taught = train.map { Workspace.inputHash($0.evalCase.inputText(inputVariable: evalset.settings.input)) }
        return HostedFineTunePlan(
            action: try hostedAction(name: name, settings: settings), name: name, model: configuration.name,
            provider: configuration.provider, endpoint: configuration.endpoints[0].absoluteString,
            baseModel: baseModel, revision: revision.reference, evalset: evalset.name,
            trainExamples: data.trainExamples, validationExamples: data.validationExamples, epochs: epochs,
            estimatedEpochs: options.epochs ?? TokenEstimate.autoEpochs(examples: data.trainExamples),
            tokensPerEpoch: data.tokensPerEpoch, priceTrainPerMillion: options.priceTrainPerMillion,
            dataHash: data.hash, configuration: configuration, evalsetID: evalset.record.id,
            revisionID: revision.revision.id, training: data.training, validation: data.validation, suffix: suffix,
            seed: options.seed, settings: settings, trainInputs: taught,
            resumeCommand: Workspace.resumeCommand(options),
            pollInterval: options.pollInterval, waitLimit: options.waitLimit, cancelOnStop: options.cancelOnStop)
    }

    /// Carries out `plan`: uploads the data and starts the job (`.train`), or waits for the one
    /// under way (`.resume`), or returns the tuned model from before (`.reuse`). The job is
    /// recorded as soon as it starts, so a stop or a crash loses nothing: asking again waits for
    /// it. The caller shows the plan and has it confirmed first; this spends what it says.
    ///
    /// - Parameters:
    ///   - stop: a stop (Ctrl-C) ends the wait; the job goes on (or is cancelled, as the plan asks).
    ///   - progress: each phase, and each poll's status, trained tokens and new log lines.
    /// - Throws: `HostedFineTuneStopped`; `FineTuningError` for a job that failed, was cancelled
    ///   elsewhere or outlasted the wait (it goes on); `ModelError`, `TransportError` when the
    ///   provider could not be asked; `InputError` for a key that is missing or would be exposed.
    package func hostedFineTune(
        _ plan: HostedFineTunePlan, environment: [String: String], stop: StopRequest? = nil,
        progress: (HostedFineTuneProgress) -> Void = { _ in }
    ) async throws -> HostedFineTuneResult {
        if case .reuse = plan.action {
            // Never a new (paid) job in place of a record that went missing since the plan.
            guard let record = try store.adapter(named: plan.name) else {
                throw Refusal("the record \(plan.name) was removed since the plan was made; ask again")
            }
            return try result(plan, record: record, reused: true)
        }
        let client = try plan.configuration.fineTuningClient(http: runtime.http, environment: environment)
        let started = ContinuousClock.now
        func report(
            _ phase: HostedFineTuneProgress.Phase, _ job: FineTuningJob? = nil, _ events: [FineTuningEvent] = []
        ) {
            progress(
                HostedFineTuneProgress(
                    phase: phase, job: job?.id, status: job?.status, trainedTokens: job?.trainedTokens, events: events,
                    elapsed: started.duration(to: .now).inSeconds))
        }
        let isStopped = { stop?.isRequested == true || Task.isCancelled }
        let jobID: String
        if case .resume(let job) = plan.action {
            jobID = job
        } else {
            jobID = try await startJob(plan, client: client, isStopped: isStopped, report: { report($0) })
        }

        let job: FineTuningJob
        do {
            job = try await client.wait(
                for: jobID, pollInterval: plan.pollInterval, deadline: plan.waitLimit.map { ContinuousClock.now + $0 },
                progress: { report(.training, $0, $1) }, isStopped: isStopped)
        } catch is CancellationError {
            throw await stopped(plan, job: jobID, client: client)
        } catch let error as FineTuningError {
            switch error {
            case .jobFailed, .jobCancelled:
                // Ended for good without a model: asking again starts afresh instead of waiting for it.
                try store.deleteAdapter(named: plan.name)
            case .noTunedModel, .fileRefused, .stillRunning:
                // A job that succeeded is not paid for twice; one still running is waited for again.
                break
            }
            throw error
        }
        let record = try recordSucceeded(plan, job: job, waited: started.duration(to: .now).inSeconds)
        return try result(plan, record: record, reused: false)
    }

    /// Cancels the job under way for `plan`'s data and settings, and forgets it.
    /// - Returns: the job as the provider describes it after the cancellation.
    package func cancelHostedFineTune(_ plan: HostedFineTunePlan, environment: [String: String]) async throws
        -> FineTuningJob
    {
        guard case .resume(let id) = plan.action else {
            throw Refusal("no fine-tuning job for this data and these settings is under way at \(plan.endpoint)")
        }
        let client = try plan.configuration.fineTuningClient(http: runtime.http, environment: environment)
        let job = try await client.cancel(id)
        try store.deleteAdapter(named: plan.name)
        return job
    }

    // MARK: Steps

    /// The configured model `name`, when its provider runs fine-tuning jobs.
    private func hostedModel(_ name: String, environment: [String: String]) throws -> ModelConfiguration {
        guard let configuration = try runtime.configuration(environment: environment).select(name) else {
            throw Refusal(
                "\(setting: "model") \(name) is not a model of .pwb/config.json; a hosted fine-tuning job runs for a configured OpenAI or Azure model"
            )
        }
        guard configuration.offersFineTuning else {
            throw Refusal(
                "model \(configuration.name) is served by \(configuration.provider.rawValue), which has no hosted fine-tuning API; without \(setting: "model"), \(command: "finetune EVALSET") trains an adapter for the local model"
            )
        }
        return configuration
    }

    /// The train cases a job learns from: the first `examples` (or all), enough of them, and
    /// none whose input is also a dev or test case's.
    private func hostedTrainCases(_ options: HostedFineTuneOptions, evalset: LoadedEvalSet) throws -> [StoredCase] {
        let train = try store.cases(evalsetID: evalset.record.id, split: .train)
        try checkTrainable(train, evalset: evalset)
        let minimum = HostedFineTuneOptions.minimumExamples
        if let examples = options.examples {
            guard (minimum...train.count).contains(examples) else {
                throw Refusal(
                    "\(setting: "examples") \(examples) is outside what eval set \(evalset.name) can train on: between \(minimum) and its \(train.count) train cases"
                )
            }
            return Array(train.prefix(examples))
        }
        guard train.count >= minimum else {
            throw Refusal(
                "eval set \(evalset.name) has \(train.count) train cases; a hosted fine-tuning job needs at least \(minimum) (give more cases \"split\": \"train\")"
            )
        }
        return train
    }

    /// Each train case as chat messages: the local trainer's prompt (its chat turns, or the raw
    /// prompt as the user's turn) and its answer as the assistant's turn, without the space that
    /// joins a raw completion to its prompt and the stop sequence that ends it: a chat turn
    /// begins and ends by itself.
    func chatExamples(_ cases: [StoredCase], revision: ResolvedRevision) throws -> [[ChatMessage]] {
        let stop = revision.file.settings.stop.first ?? ""
        return try trainingPairs(cases, revision: revision).map { pair in
            var answer = pair.completion
            if !stop.isEmpty && answer.hasSuffix(stop) { answer.removeLast(stop.count) }
            while answer.first?.isWhitespace == true { answer.removeFirst() }
            var messages: [ChatMessage]
            switch pair.prompt {
            case .text(let text): messages = [ChatMessage(role: "user", content: text)]
            case .chat(let turns): messages = turns
            }
            messages.append(ChatMessage(role: "assistant", content: answer))
            return messages
        }
    }

    /// Whether a job on the same data and settings ran before: its tuned model to reuse, or its
    /// job to wait for. (A job that ended without a model is forgotten when it ends.)
    private func hostedAction(name: String, settings: HostedTraining.Settings) throws -> HostedFineTunePlan.Action {
        guard let existing = try store.adapter(named: name) else { return .train }
        guard let hosted = existing.hosted, hosted.settings == settings else {
            throw Refusal(
                "an adapter named \(name) exists, trained otherwise; remove it from the store or change \(setting: "template") or \(setting: "examples")"
            )
        }
        if let tuned = hosted.fineTunedModel { return .reuse(tunedModel: tuned) }
        return hosted.jobID.isEmpty ? .train : .resume(job: hosted.jobID)
    }

    /// Uploads the files, waits while the provider checks them, starts the job and records it.
    private func startJob(
        _ plan: HostedFineTunePlan, client: FineTuningClient, isStopped: () -> Bool,
        report: (HostedFineTuneProgress.Phase) -> Void
    ) async throws -> String {
        let stopped = HostedFineTuneStopped(job: nil, url: client.url, cancelled: false, resume: plan.resumeCommand)
        if isStopped() { throw stopped }
        report(.uploading)
        let uploaded = try await client.upload(Array(plan.training.utf8), filename: "\(plan.name)-train.jsonl")
        var validation: UploadedFile?
        if let data = plan.validation {
            validation = try await client.upload(Array(data.utf8), filename: "\(plan.name)-validation.jsonl")
        }
        report(.checkingFiles)
        let pause = min(plan.pollInterval, .seconds(5))
        let ready = try await client.waitUntilReady(uploaded, pollInterval: pause)
        if let validation { _ = try await client.waitUntilReady(validation, pollInterval: pause) }
        // The last moment a stop costs nothing.
        if isStopped() { throw stopped }
        report(.starting)
        let job = try await client.createJob(
            FineTuningJobRequest(
                model: plan.baseModel, trainingFile: ready.id, validationFile: validation?.id,
                epochs: plan.epochs, suffix: plan.suffix, seed: plan.seed))
        var training = plan.record(job: job.id, status: job.status.description)
        training.trainingFile = ready.id
        training.validationFile = validation?.id
        training.started = Workspace.timestamp(Date())
        try store.deleteAdapter(named: plan.name)
        _ = try store.insertAdapter(hostedRecord(plan, job: job.id, training: training))
        return job.id
    }

    /// Writes what the succeeded job reports into its record: the tuned model, the tokens
    /// trained, the settings the provider chose, the time it took and its cost. A record removed
    /// while the job ran is written again: the job was paid for.
    private func recordSucceeded(_ plan: HostedFineTunePlan, job: FineTuningJob, waited: Double) throws -> AdapterRecord
    {
        let existing = try store.adapter(named: plan.name)
        var training = existing?.hosted ?? plan.record(job: job.id, status: job.status.description)
        training.status = job.status.description
        training.fineTunedModel = job.fineTunedModel
        training.trainedTokens = job.trainedTokens
        training.hyperparameters = job.hyperparameters.json
        // The provider's own times when it gives them: a wait resumed later saw only part of the job.
        if let created = job.createdAt, let finished = job.finishedAt, finished >= created {
            training.wallSeconds = finished.timeIntervalSince(created)
        } else {
            training.wallSeconds = waited
        }
        if let tokens = job.trainedTokens, let price = plan.priceTrainPerMillion {
            training.costUSD = Double(tokens) * price / 1_000_000
        }
        if existing == nil {
            _ = try store.insertAdapter(hostedRecord(plan, job: job.id, training: training))
        } else {
            try store.updateAdapter(named: plan.name, hash: plan.dataHash, training: .hosted(training))
        }
        guard let record = try store.adapter(named: plan.name) else {
            throw Refusal("the record of fine-tuning job \(job.id) (\(plan.name)) could not be read back; ask again")
        }
        return record
    }

    /// The store's record of `plan`'s job: like a local adapter's, with no file; its `path` names the job.
    private func hostedRecord(_ plan: HostedFineTunePlan, job: String, training: HostedTraining) -> AdapterRecord {
        AdapterRecord(
            id: 0, name: plan.name, evalsetID: plan.evalsetID, revisionID: plan.revisionID,
            baseModel: Workspace.hostedIdentity(plan.provider, plan.baseModel),
            path: "hosted:\(plan.provider.rawValue)/\(job)", hash: plan.dataHash, training: .hosted(training),
            createdAt: "")
    }

    /// A stopped wait: the job is cancelled when the plan says so (with a request of its own,
    /// since this task's are cancelled); otherwise it goes on, and asking again waits for it.
    private func stopped(_ plan: HostedFineTunePlan, job: String, client: FineTuningClient) async
        -> HostedFineTuneStopped
    {
        let goesOn = HostedFineTuneStopped(job: job, url: client.url, cancelled: false, resume: plan.resumeCommand)
        guard plan.cancelOnStop else { return goesOn }
        do {
            _ = try await Task { try await client.cancel(job) }.value
            try store.deleteAdapter(named: plan.name)
        } catch {
            // Not cancelled after all: the message says it goes on and how to stop it.
            return goesOn
        }
        return HostedFineTuneStopped(job: job, url: client.url, cancelled: true, resume: plan.resumeCommand)
    }

    private func result(_ plan: HostedFineTunePlan, record: AdapterRecord, reused: Bool) throws -> HostedFineTuneResult
    {
        guard let tuned = record.hosted?.fineTunedModel else {
            throw Refusal("fine-tuning job record \(record.name) names no tuned model")
        }
        guard plan.provider == .azure else {
            return HostedFineTuneResult(
                adapter: record, tunedModel: tuned, reused: reused,
                tunedConfiguration: plan.configuration.serving(tuned, name: "\(plan.model)+\(record.name)"))
        }
        return HostedFineTuneResult(
            adapter: record, tunedModel: tuned, reused: reused, tunedConfiguration: nil,
            deployment: Workspace.azureDeployment(tuned, endpoint: plan.configuration.endpoints[0]))
    }

    // MARK: Names

    /// The step that deploys a tuned Azure model: a control-plane action with the Azure CLI's
    /// credentials, which pwb neither holds nor asks for.
    static func azureDeployment(_ tuned: String, endpoint: URL) -> Message {
        let resource = (endpoint.host ?? "RESOURCE").split(separator: ".").first.map(String.init) ?? "RESOURCE"
        let deployment =
            "pwb-"
            + String(tuned.split(separator: ".").last?.filter { $0.isLetter || $0.isNumber || $0 == "-" } ?? "tuned")
            .prefix(40)
        return
            "deploy it with: az cognitiveservices account deployment create --resource-group YOUR_RESOURCE_GROUP --name \(resource) --deployment-name \(deployment) --model-name \(tuned) --model-version 1 --model-format OpenAI --sku-name standard --sku-capacity 1; then add a model with \"provider\": \"azure\" and \"model\": \"\(deployment)\" to .pwb/config.json and measure it with \(setting: "finetuned-model")"
    }

    /// The command that asks for the same job again (and so waits for it), for the interface to word.
    static func resumeCommand(_ options: HostedFineTuneOptions) -> String {
        var words = ["finetune", options.evalset, "--model", options.model]
        if let template = options.template { words += ["--template", template] }
        if let examples = options.examples { words += ["--examples", String(examples)] }
        if let epochs = options.epochs { words += ["--epochs", String(epochs)] }
        if let suffix = options.suffix { words += ["--suffix", suffix] }
        if let seed = options.seed { words += ["--seed", String(seed)] }
        return words.joined(separator: " ")
    }

    /// The suffix a job's tuned model name carries: the one given (checked), else `pwb-VARIANT`.
    static func jobSuffix(_ given: String?, variant: String) throws -> String {
        if let given {
            guard (1...40).contains(given.count),
                given.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw Refusal(
                    "\(setting: "suffix") \"\(given.prefix(60))\" cannot go into a model name; use up to 40 letters, digits, '-' and '_'"
                )
            }
            return given
        }
        let cleaned = variant.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
        // 18 characters: the shortest limit a provider has set on suffixes.
        return String(("pwb-" + String(cleaned)).prefix(18))
    }

    /// A record name from the variant, the configured model, the size and a hash of the settings.
    static func hostedName(variant: String, model: String, examples: Int, settings: JSONValue) -> String {
        let safe = { (text: String) in
            String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "-" }.prefix(40))
        }
        return "\(safe(variant))-\(safe(model))-hosted-n\(examples)-\(SHA256.hex(settings.serialized()).prefix(8))"
    }

    /// The identity a hosted base model is recorded under, as runs name models (`kind:model`).
    static func hostedIdentity(_ provider: ProviderKind, _ model: String) -> String { "\(provider.rawValue):\(model)" }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
