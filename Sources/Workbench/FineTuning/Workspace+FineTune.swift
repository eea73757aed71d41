import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

#if canImport(Glibc)
    import Glibc
#endif

/// What `pwb finetune` is asked.
package struct FineTuneOptions: Sendable {
    package var evalset: String
    /// `template/variant[@N]` whose zero-shot prompt the adapter learns to answer; nil picks the
    /// only template naming the eval set.
    package var template: String?
    /// The adapter's name (one size only); nil names it from what it was trained on.
    package var name: String?
    package var rank = 8
    /// The most epochs; nil sets them from the data (`epochBudget`). The epoch kept is the one
    /// with the lowest loss on the validation part.
    package var epochs: Int?
    /// The share of each adapter's train cases held out to choose its epoch by (never dev or test).
    package var validationShare = 0.2
    /// Epochs without a lower validation loss before training stops.
    package var patience = 3
    package var learningRate = 2e-4
    package var batch = 8
    package var seed = 0
    /// Train one adapter on the first N train cases for each N; nil trains one on all of them.
    package var examples: [Int]?
    /// Install the trainer first when it is missing.
    package var install = false

    package init(evalset: String) {
        self.evalset = evalset
    }

    /// The fewest train cases an adapter is trained on: with fewer, one epoch is a step or two
    /// and the adapter learns nothing the intervals could tell apart from noise.
    package static let minimumExamples = 8

    /// The most epochs an adapter on `examples` train cases is given when none are asked for:
    /// enough for about 160 optimizer steps on the part trained on, at least 8 epochs and at most
    /// 32. Validation stops it before that when its loss stops falling. On ja-inquiry's 64 train
    /// cases (51 trained on, 7 steps an epoch) that is 23 epochs; training stopped after 15 and kept
    /// the 12th, which scored 0.844 on the 64 dev cases against 0.516, 0.656, 0.859 and 0.875 for 2,
    /// 4, 8 and 16 epochs on all 64 (README, Fine-tuning).
    package static func epochBudget(examples: Int) -> Int {
        let trained = examples - heldOut(examples, share: 0.2)
        let stepsPerEpoch = (trained + 7) / 8
        return min(32, max(8, (160 + stepsPerEpoch - 1) / stepsPerEpoch))
    }

    /// The epochs training on `examples` is expected to run, for estimates: about two thirds of
    /// the most it may run, as validation stopped it (15 of 23 on ja-inquiry).
    package static func expectedEpochs(_ examples: Int, most: Int?) -> Double {
        Double(most ?? epochBudget(examples: examples)) * 0.65
    }

    /// About how long training adapters on each of `sizes` train cases takes: loading the model,
    /// the epochs expected (`expectedEpochs`) at the examples per second adapters trained here
    /// reached before (their median), or, before any, 1.5 a second per core (what the default
    /// model reached on a quiet two-core machine, about 3), and converting each adapter.
    package static func estimatedSeconds(_ sizes: [Int], epochs: Int?, measuredSpeeds: [Double]) -> Double {
        let cores = Double(max(1, ProcessInfo.processInfo.activeProcessorCount))
        let perSecond = measuredSpeeds.isEmpty ? 1.5 * cores : measuredSpeeds.sorted()[measuredSpeeds.count / 2]
        return 60 + sizes.map { Double($0) * expectedEpochs($0, most: epochs) / perSecond + 15 }.reduce(0, +)
    }

    /// How many of `examples` the trainer holds out for validation at `share`: a share of them,
    /// at least 2, leaving at least 4 to train on; none at a share of 0 (as `train_lora.py` does).
    package static func heldOut(_ examples: Int, share: Double) -> Int {
        guard share > 0 else { return 0 }
        let count = min(max(2, Int((Double(examples) * share).rounded())), examples - 4)
        return count < 2 ? 0 : count
    }
}

/// How far training is.
package struct FineTuneProgress: Sendable {
    /// Which adapter of how many.
    package var job: Int
    package var jobs: Int
    package var step: Int
    package var steps: Int
    package var loss: Double?
    /// Seconds since the trainer started, and the estimate of what is left (nil until known).
    package var elapsed: Double
    package var remaining: Double?
    /// What the trainer does now: `loading the model`, `training`, `converting`.
    package var phase: String
    /// Where it trains (`cpu`, `cuda`, `mps`), once the trainer has said.
    package var device: String?
}

/// The trainer could not run or failed; the message says why and what to do (exit 3).
package struct TrainerError: Error, Sendable, CustomStringConvertible {
    /// What failed; a command to run next is named as such, for the interface to word.
    package var message: Message
}

extension TrainerError: MessageError {
    package var exitCode: Int32 { ExitCode.runtimeUnavailable }
}

/// Training was stopped (Ctrl-C); no adapter of the unfinished job was stored.
package struct TrainingStopped: Error, Sendable, CustomStringConvertible {
    package var finished: [String]
    package var description: String {
        "training stopped"
            + (finished.isEmpty ? "; no adapter was stored" : "; stored before it: \(finished.joined(separator: ", "))")
    }
}

extension TrainingStopped: ExitCoded {
    package var exitCode: Int32 { ExitCode.interrupted }
}

/// One prompt and the answer the adapter is to give.
struct TrainingPair {
    var prompt: CompletionRequest.Prompt
    var completion: String

    var json: JSONValue {
        switch prompt {
        case .text(let text): ["prompt": .string(text), "completion": .string(completion)]
        case .chat(let turns): ["messages": .array(turns.map(\.json)), "completion": .string(completion)]
        }
    }
}

extension Workspace {
    /// Trains LoRA adapters for the managed runtime's model on the eval set's train split, one
    /// per size in `options.examples`, with prompts rendered exactly as `pwb eval` renders them
    /// zero-shot, and stores each (GGUF file under `.pwb/adapters`, hash, settings, data hash,
    /// loss curve, wall time, machine). An adapter trained before on the same data, settings and
    /// model is reused, not trained again.
    package func finetune(
        _ options: FineTuneOptions, environment: [String: String], stop: StopRequest? = nil,
        notes: (Message) -> Void = { _ in }, progress: ((FineTuneProgress) -> Void)? = nil
    ) async throws -> [AdapterRecord] {
        let evalset = try library.evalset(named: options.evalset)
        let revision = try fineTuningRevision(evalset: evalset, reference: options.template)
        let train = try store.cases(evalsetID: evalset.record.id, split: .train)
        try checkTrainable(train, evalset: evalset)
        let counts = Array(Set(options.examples ?? [train.count])).sorted()
        if let name = options.name,
            !(name.first.map { $0.isLetter || $0.isNumber } ?? false) || name.count > 100
                || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        {
            throw Refusal(
                "\(setting: "name") \"\(name)\" cannot name an adapter file; use letters, digits, '.', '_' and '-' (not first)"
            )
        }
        for count in counts where !(FineTuneOptions.minimumExamples...train.count).contains(count) {
            throw Refusal(
                "\(setting: "examples") \(count) is outside what eval set \(evalset.name) can train on: between \(FineTuneOptions.minimumExamples) and its \(train.count) train cases"
            )
        }
        guard (1...256).contains(options.rank), (1...100).contains(options.epochs ?? 1),
            (1...512).contains(options.batch),
            options.learningRate > 0 && options.learningRate < 1, (0..<1).contains(options.validationShare),
            (1...100).contains(options.patience)
        else {
            throw Refusal(
                "training settings out of range: \(setting: "rank") 1…256, \(setting: "epochs") 1…100, \(setting: "learning-rate") between 0 and 1"
            )
        }
        if options.name != nil && counts.count > 1 {
            throw Refusal(
                "\(setting: "name") names one adapter; with several \(setting: "examples") sizes pwb names each")
        }
        try checkVariables([revision], cases: train, evalset: evalset.name)
        let pairs = try trainingPairs(train, revision: revision)
        try checkTrainingData(pairs, revision: revision)

        // The base is the model the managed runtime serves: the adapter is trained for that file.
        let base = try await runtime.connect(.managed, environment: environment)
        if let started = base.startedRuntime { notes(Workspace.startedNote(started)) }
        // The file pwb started the runtime with, never a path a server names: the trainer reads it.
        guard case .running(let managed, _) = await runtime.managedServer(environment: environment).status(),
            base.client.endpoints == [managed.endpoint.absoluteString]
        else {
            throw Refusal(
                "\(command: "finetune") trains for the model the managed runtime serves, and \(base.client.endpoints.joined(separator: ", ")) is another server; unset PWB_ENDPOINT (or rename a configured model called local)"
            )
        }
        let modelPath = managed.model
        guard FileSystem.exists(modelPath) else {
            throw TrainerError(
                message:
                    "the model file the managed runtime was started with, \(modelPath), is gone, so there is nothing to train an adapter for; restart it with \(command: "runtime stop"), then \(command: "runtime start")"
            )
        }

        let lines = pairs.map { $0.json.serialized() + "\n" }
        let trainerVersion = try Workspace.trainerVersion()
        var adapters: [AdapterRecord] = []
        var jobs: [(name: String, settings: AdapterTraining.Settings)] = []
        for count in counts {
            let settings = AdapterTraining.Settings(
                rank: options.rank, maxEpochs: options.epochs ?? FineTuneOptions.epochBudget(examples: count),
                learningRate: options.learningRate, batch: options.batch, seed: options.seed, examples: count,
                validationShare: options.validationShare, patience: options.patience,
                dataHash: SHA256.hex(lines.prefix(count).joined()), revision: revision.reference,
                baseModel: base.identity, trainer: trainerVersion)
            let name = options.name ?? "\(revision.variant.name)-n\(count)-\(settings.hash.prefix(8))"
            if let existing = try store.adapter(named: name) {
                guard existing.local?.settings == settings else {
                    throw Refusal(
                        "an adapter named \(name) exists, trained on other data, settings, model or trainer; choose another \(setting: "name")"
                    )
                }
                if FileSystem.exists(runtime.adapterPath(existing)) {
                    notes("reusing adapter \(name), trained on the same \(count) cases with the same settings")
                    adapters.append(existing)
                    continue
                }
                // Its file is gone: trained again, and its record replaced when the new one is stored.
                try store.deleteAdapter(named: name)
            }
            jobs.append((name, settings))
        }
        guard !jobs.isEmpty else { return adapters }
        let trainer = try trainerInstallation(environment: environment, install: options.install, notes: notes)
        let directory = stateDirectory + "/adapters"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Workspace.removeAbandonedTraining(in: directory)
        let work = directory + "/.training-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let dataPath = work + "/train.jsonl"
        try FileSystem.write(lines.joined(), to: dataPath)

        var arguments = [
            "-W", "ignore", trainer.script, "--base", modelPath, "--data", dataPath, "--converter", trainer.converter,
            "--cache", try trainer.modelCache(for: modelPath),
            "--rank", String(options.rank), "--alpha", String(options.rank * 2),
            "--learning-rate", String(options.learningRate), "--batch", String(options.batch), "--seed",
            String(options.seed), "--validation", String(options.validationShare), "--patience",
            String(options.patience),
        ]
        for (index, job) in jobs.enumerated() {
            arguments += [
                "--job", String(job.settings.examples), String(job.settings.maxEpochs), work + "/\(index).gguf",
            ]
        }
        let run = TrainerProcess(python: trainer.python, arguments: arguments, log: directory + "/training.log")
        var records = jobs.map { AdapterTraining(settings: $0.settings, bestEpoch: 0, epochsRun: 0) }
        var loadSeconds = 0.0
        var device: String?
        // Steps per job at most; a job that stops early gives the rest up.
        var jobSteps = jobs.map { job in
            let trained =
                job.settings.examples - FineTuneOptions.heldOut(job.settings.examples, share: options.validationShare)
            return (trained + options.batch - 1) / options.batch * job.settings.maxEpochs
        }
        let started = ContinuousClock.now
        // Finished jobs' steps and training seconds, and the current job's, for the estimate.
        var finished = (steps: 0, seconds: 0.0)
        var current = (steps: 0, seconds: 0.0)
        func report(_ job: Int, step: Int, loss: Double?, phase: String) {
            let done = finished.steps + current.steps
            let perStep = done > 0 ? (finished.seconds + current.seconds) / Double(done) : nil
            progress?(
                FineTuneProgress(
                    job: job + 1, jobs: jobs.count, step: step, steps: jobSteps[job], loss: loss,
                    elapsed: started.duration(to: .now).inSeconds,
                    remaining: perStep.map { $0 * Double(jobSteps.reduce(0, +) - done) }, phase: phase,
                    device: device))
        }
        report(0, step: 0, loss: nil, phase: "loading the model")
        var trained: [String] = []
        do {
            try await run.events(stop: stop) { event in
                let job = event["job"]?.intValue ?? 0
                guard jobs.indices.contains(job) else { return }
                switch event["event"]?.stringValue {
                case "loaded":
                    loadSeconds = event["seconds"]?.doubleValue ?? 0
                    device = event["device"]?.stringValue
                    report(job, step: 0, loss: nil, phase: "training")
                case "step":
                    let loss = event["loss"]?.doubleValue ?? .nan
                    records[job].losses.append(loss)
                    let step = event["step"]?.intValue ?? 0
                    current = (step, event["elapsed"]?.doubleValue ?? current.seconds)
                    report(job, step: step, loss: loss, phase: "training")
                case "epoch":
                    records[job].epochLosses.append(event["loss"]?.doubleValue ?? .nan)
                    if let checked = event["validation_loss"]?.doubleValue {
                        records[job].validationLosses.append(checked)
                    }
                case "stopped":
                    // Validation stopped improving: the steps it would have taken are not to come.
                    jobSteps[job] = current.steps
                    report(job, step: current.steps, loss: records[job].losses.last, phase: "converting")
                case "saved":
                    let spent = event["training_seconds"]?.doubleValue ?? current.seconds
                    finished = (finished.steps + current.steps, finished.seconds + spent)
                    jobSteps[job] = current.steps
                    current = (0, 0)
                    let (name, settings) = (jobs[job].name, jobs[job].settings)
                    let file = directory + "/\(name).gguf"
                    try Workspace.replace(file, with: work + "/\(job).gguf")
                    var training = records[job]
                    training.epochsRun = event["epochs_run"]?.intValue ?? training.epochLosses.count
                    training.bestEpoch = event["best_epoch"]?.intValue ?? training.epochsRun
                    training.trainingSeconds = spent
                    training.examplesPerSecond = spent > 0 ? Double(settings.examples * training.epochsRun) / spent : 0
                    training.loadSeconds = loadSeconds
                    training.convertingSeconds = event["converting_seconds"]?.doubleValue ?? 0
                    training.device = device
                    training.machine = Workspace.machine
                    // What it was given, so that no evaluation scores it on those cases.
                    training.trainInputs = train.prefix(settings.examples).map {
                        Workspace.inputHash($0.evalCase.inputText(inputVariable: evalset.settings.input))
                    }
                    let record = AdapterRecord(
                        id: 0, name: name, evalsetID: evalset.record.id, revisionID: revision.revision.id,
                        baseModel: base.identity, path: "adapters/\(name).gguf", hash: try Workspace.fileHash(file),
                        training: .local(training), createdAt: "")
                    _ = try store.insertAdapter(record)
                    adapters.append(try store.adapter(named: name) ?? record)
                    trained.append(name)
                    if job + 1 < jobs.count { report(job + 1, step: 0, loss: nil, phase: "training") }
                default: break
                }
            }
        } catch is TrainingStopped {
            throw TrainingStopped(finished: trained)
        }
        return adapters
    }

    /// The adapter named `name`, with its file on this machine.
    package func adapter(named name: String) throws -> AdapterRecord {
        guard let adapter = try store.adapter(named: name) else {
            let known = try store.adapters().map(\.name)
            let hint: Message =
                known.isEmpty
                ? "; \(command: "finetune EVALSET") trains one" : " (adapters: \(known.joined(separator: ", ")))"
            throw Refusal("there is no adapter \(name)\(hint)")
        }
        guard FileSystem.exists(runtime.adapterPath(adapter)) else {
            throw Refusal(
                "adapter \(name)'s file \(shown(runtime.adapterPath(adapter))) is gone; train it again with \(command: "finetune")"
            )
        }
        return adapter
    }

    /// The train split must be large enough to learn from and share no input with dev or test:
    /// a tuned model scored on what it was taught would look better than it is.
    func checkTrainable(_ train: [StoredCase], evalset: LoadedEvalSet) throws {
        guard train.count >= FineTuneOptions.minimumExamples else {
            throw Refusal(
                "eval set \(evalset.name) has \(train.count) train cases; fine-tuning needs at least \(FineTuneOptions.minimumExamples) to learn from (give more cases \"split\": \"train\")"
            )
        }
        let input = evalset.settings.input
        var trainInputs: [String: String] = [:]
        for stored in train { trainInputs[stored.evalCase.inputText(inputVariable: input)] = stored.evalCase.id }
        for split in [Split.dev, .test] {
            for stored in try store.cases(evalsetID: evalset.record.id, split: split) {
                if let twin = trainInputs[stored.evalCase.inputText(inputVariable: input)] {
                    throw InputError(
                        file: evalset.name,
                        "train case \(twin) and \(split.rawValue) case \(stored.evalCase.id) have the same input; the tuned model would be scored on a case it was taught, so remove one of them or move both to one split"
                    )
                }
            }
        }
    }

    /// Each train case as the zero-shot prompt `pwb eval` sends for it and the answer to learn:
    /// the expected text, after a space when the prompt does not end in one (as a label follows
    /// `Sentiment:`), then the variant's first stop sequence, so the tuned model stops where the
    /// scorer reads to.
    func trainingPairs(_ cases: [StoredCase], revision: ResolvedRevision) throws -> [TrainingPair] {
        try cases.map { stored in
            let request = try Prompting.request(
                revision.file, reference: revision.reference, vars: stored.evalCase.textVars)
            let expected = stored.evalCase.expected.text
            var completion = expected
            if case .text(let text) = request.prompt, let last = text.last, !last.isWhitespace,
                expected.first.map({ !$0.isWhitespace }) ?? false
            {
                completion = " " + expected
            }
            return TrainingPair(prompt: request.prompt, completion: completion + (request.stop.first ?? ""))
        }
    }

    private func checkTrainingData(_ pairs: [TrainingPair], revision: ResolvedRevision) throws {
        if pairs.allSatisfy({ $0.completion.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw InputError(
                file: revision.reference, "every train case expects an empty answer, so there is nothing to learn")
        }
    }

    /// Prompt/completion JSON lines, the form TRL's SFT trainer reads (and `pwb finetune` trains on).
    package func fineTuningPromptCompletion(_ cases: [StoredCase], revision: ResolvedRevision) throws -> String {
        try trainingPairs(cases, revision: revision).map { $0.json.serialized() + "\n" }.joined()
    }

    /// Removes the working folders of trainings whose process is gone (killed before it could
    /// clean up): `.training-PID`.
    static func removeAbandonedTraining(in directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(".training-") {
            guard let pid = Int32(name.dropFirst(".training-".count)), kill(pid, 0) != 0, errno == ESRCH else {
                continue
            }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    /// A short hash of a case's input, as adapters record what they were trained on.
    static func inputHash(_ input: String) -> String { String(SHA256.hex(input).prefix(16)) }

    /// What identifies the trainer: its script and its pinned packages.
    static func trainerVersion() throws -> String {
        guard let script = Bundle.module.path(forResource: "train_lora", ofType: "py"),
            let requirements = Bundle.module.path(forResource: "trainer-requirements", ofType: "txt"),
            let a = FileManager.default.contents(atPath: script),
            let b = FileManager.default.contents(atPath: requirements)
        else {
            throw TrainerError(message: "pwb's training script is missing from its installation; build pwb again")
        }
        return String(SHA256.hex(bytes: [UInt8](a) + [UInt8](b)).prefix(16))
    }

    /// Refuses to score `adapter` on a case it was trained on: on the train split, or on a case
    /// whose input it was taught (cases move between splits, and eval sets share inputs).
    func checkNotTaught(_ adapter: AdapterRecord, cases: [StoredCase], split: Split, evalset: LoadedEvalSet) throws {
        if split == .train {
            throw Refusal(
                "adapter \(adapter.name) was trained on the train split; score it on dev or test (\(setting: "split"))")
        }
        let taught = Set(adapter.trainInputs)
        if let seen = cases.first(where: {
            taught.contains(Workspace.inputHash($0.evalCase.inputText(inputVariable: evalset.settings.input)))
        }) {
            throw InputError(
                file: evalset.name,
                "case \(seen.evalCase.id) has an input adapter \(adapter.name) was trained on; a tuned model scored on what it was taught looks better than it is, so remove the case from \(split.rawValue) or train the adapter without it"
            )
        }
    }

    /// Moves `source` over `destination`.
    static func replace(_ destination: String, with source: String) throws {
        if FileManager.default.fileExists(atPath: destination) {
            try FileManager.default.removeItem(atPath: destination)
        }
        try FileManager.default.moveItem(atPath: source, toPath: destination)
    }

    /// SHA-256 of a file, hex.
    static func fileHash(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TrainerError(message: "the trainer wrote no adapter at \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty { hasher.update([UInt8](block)) }
        return hasher.finalize().hexString
    }

    /// The machine an adapter was trained on, for its record.
    static var machine: JSONValue {
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let value = line.split(separator: ":", maxSplits: 1).last
        {
            cpu = value.trimmingCharacters(in: .whitespaces)
        }
        return [
            "cores": .number(Double(ProcessInfo.processInfo.activeProcessorCount)), "cpu": .string(cpu),
            "memory_gib": .number((Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824).rounded()),
        ]
    }
}
