import Foundation
import ModelRuntime
import StubRuntime
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// What `pwb finetune` trains on and what it refuses, before any training starts.
@Suite struct FineTuneTests {
    /// Twelve reviews for training and four for dev, `twin` of them a train case again.
    static func manyReviews(twin: Bool = false) -> [String: String] {
        var lines: [String] = []
        for index in 1...12 {
            let good = index % 2 == 0
            lines.append(
                #"{"id": "t\#(index)", "vars": {"text": "\#(good ? "good" : "bad") thing number \#(index)"}, "expected": "\#(good ? "positive" : "negative")", "split": "train"}"#
            )
        }
        for index in 1...4 {
            let text = twin && index == 3 ? "bad thing number 7" : "dev review \(index)"
            lines.append(
                #"{"id": "d\#(index)", "vars": {"text": "\#(text)"}, "expected": "negative", "split": "dev"}"#)
        }
        return [
            "evalsets/many.json":
                #"{"scorers": [{"type": "label", "labels": ["positive", "negative"]}], "input": "text"}"#,
            "evalsets/many.jsonl": lines.joined(separator: "\n"),
        ]
    }

    @Test func theTrainingPairsAreTheZeroShotPromptsEvalSends() async throws {
        let work = try StubWorkspace()
        let evalset = try work.workspace.library.evalset(named: "reviews")
        let train = try work.workspace.store.cases(evalsetID: evalset.record.id, split: .train)
        for variant in ["plain", "asked"] {
            let revision = try work.workspace.library.resolve(RevisionReference(parsing: "sentiment/\(variant)"))
            let pairs = try work.workspace.trainingPairs(train, revision: revision)
            let before = work.completions.count
            _ = try await work.evaluate(
                work.options {
                    $0.variants = [variant]
                    $0.split = .train
                })
            let sent = work.completions.dropFirst(before).compactMap { $0.json?["prompt"]?.stringValue }
            let trained = pairs.map { pair -> String in
                guard case .text(let text) = pair.prompt else { return "" }
                return text
            }
            #expect(Set(trained) == Set(sent), "\(variant): the prompts eval sends, exactly")
            #expect(trained.count == 4)
        }
        let plain = try work.workspace.library.resolve(RevisionReference(parsing: "sentiment/plain"))
        let pairs = try work.workspace.trainingPairs(train, revision: plain)
        // After "Sentiment:" a space, then the label, then the variant's stop sequence.
        #expect(pairs.map(\.completion) == [" positive\n", " negative\n", " positive\n", " negative\n"])
        let asked = try work.workspace.library.resolve(RevisionReference(parsing: "sentiment/asked"))
        #expect(try work.workspace.trainingPairs(train, revision: asked)[0].completion == " positive", "no stop set")
        let exported = try work.workspace.fineTuningPromptCompletion(train, revision: plain)
        let first = try JSONValue(parsing: Array((exported.split(separator: "\n").first ?? "").utf8))
        #expect(first["completion"] == " positive\n")
        #expect(first["prompt"]?.stringValue?.hasSuffix("Review: good food and good staff\nSentiment:") == true)
    }

    @Test func aSplitTooSmallTwinsAcrossSplitsAndSizesOutOfRangeAreRefusedBeforeAnything() async throws {
        let small = try StubWorkspace()
        var options = FineTuneOptions(evalset: "reviews")
        options.template = "sentiment/plain"
        let tooFew = await #expect(throws: Refusal.self) {
            try await small.workspace.finetune(options, environment: small.environment)
        }
        #expect(tooFew?.description.contains("has 4 train cases; fine-tuning needs at least 8") == true)

        let twins = try StubWorkspace(extraFiles: Self.manyReviews(twin: true))
        options.evalset = "many"
        let twin = await #expect(throws: InputError.self) {
            try await twins.workspace.finetune(options, environment: twins.environment)
        }
        #expect(twin?.description.contains("train case t7 and dev case d3 have the same input") == true, "\(twin!)")

        let many = try StubWorkspace(extraFiles: Self.manyReviews())
        for sizes in [[4], [13], [8, 40]] {
            options.examples = sizes
            let refused = await #expect(throws: Refusal.self) {
                try await many.workspace.finetune(options, environment: many.environment)
            }
            #expect(refused?.description.contains("between 8 and its 12 train cases") == true)
        }
        options.examples = [8]
        for name in ["../escape", "a/b", ".hidden", "", "-rf", "_x"] {
            options.name = name
            let refused = await #expect(throws: Refusal.self) {
                try await many.workspace.finetune(options, environment: many.environment)
            }
            #expect(refused?.description.contains("cannot name an adapter file") == true, "\(name)")
        }
        options.examples = [8, 12]
        options.name = "one"
        await #expect(throws: Refusal.self) {
            try await many.workspace.finetune(options, environment: many.environment)
        }
        for work in [small, twins, many] { #expect(work.stub.requests.isEmpty, "refused before any request") }
    }

    @Test func anAdapterIsServedOnlyByTheManagedRuntime() async throws {
        let work = try StubWorkspace()
        let missing = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.adapter = "nope" })
        }
        #expect(missing?.description == "there is no adapter nope; pwb finetune EVALSET trains one")
        #expect(
            missing?.message.parts.contains(.command("finetune EVALSET")) == true,
            "named as a command, for the CLI to word")

        let evalset = try work.workspace.library.evalset(named: "reviews")
        let revision = try work.workspace.library.resolve(RevisionReference(parsing: "sentiment/plain"))
        try FileManager.default.createDirectory(
            atPath: work.workspace.stateDirectory + "/adapters", withIntermediateDirectories: true)
        FileManager.default.createFile(
            atPath: work.workspace.stateDirectory + "/adapters/tuned.gguf", contents: Data("GGUF".utf8))
        _ = try work.workspace.store.insertAdapter(
            AdapterRecord(
                id: 0, name: "tuned", evalsetID: evalset.record.id, revisionID: revision.revision.id,
                baseModel: "llama.cpp:model.gguf", path: "adapters/tuned.gguf", hash: "00",
                training: .local(AdapterTraining(json: [:])),
                createdAt: ""))
        // The stub is a configured endpoint (PWB_ENDPOINT): a server pwb did not start.
        let configured = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.adapter = "tuned" })
        }
        #expect(configured?.description.contains("is served by the managed runtime") == true)
        try FileManager.default.removeItem(atPath: work.workspace.stateDirectory + "/adapters/tuned.gguf")
        let gone = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.adapter = "tuned" })
        }
        #expect(gone?.description.contains("is gone; train it again with pwb finetune") == true)

        // An adapter is never scored on what it was taught: the train split, or a case whose input it saw.
        FileManager.default.createFile(
            atPath: work.workspace.stateDirectory + "/adapters/taught.gguf", contents: Data("GGUF".utf8))
        let devCase = try #require(try work.workspace.store.cases(evalsetID: evalset.record.id, split: .dev).first)
        _ = try work.workspace.store.insertAdapter(
            AdapterRecord(
                id: 0, name: "taught", evalsetID: evalset.record.id, revisionID: revision.revision.id,
                baseModel: "llama.cpp:model.gguf", path: "adapters/taught.gguf", hash: "00",
                training: .local(
                    AdapterTraining(json: [
                        "train_inputs": [
                            .string(Workspace.inputHash(devCase.evalCase.inputText(inputVariable: "text")))
                        ]
                    ])),
                createdAt: ""))
        let onTrain = await #expect(throws: Refusal.self) {
            try await work.evaluate(
                work.options {
                    $0.adapter = "taught"
                    $0.split = .train
                })
        }
        #expect(onTrain?.description.contains("was trained on the train split") == true)
        let seen = await #expect(throws: InputError.self) {
            try await work.evaluate(work.options { $0.adapter = "taught" })
        }
        #expect(
            seen?.description.contains("case \(devCase.evalCase.id) has an input adapter taught was trained on") == true
        )
        #expect(work.completions.isEmpty)
    }

    /// The trainer reads the model file pwb started the managed runtime with, never a path a
    /// server names in its `/props`: a server pwb did not start could name any file here.
    @Test func theTrainerIsNeverGivenAPathAServerClaims() async throws {
        let claimed = NSTemporaryDirectory() + "pwb-claimed-" + UUID().uuidString + ".gguf"
        FileManager.default.createFile(atPath: claimed, contents: Data("GGUF claimed".utf8))
        defer { try? FileManager.default.removeItem(atPath: claimed) }
        let work = try StubWorkspace(
            fault: { request in
                request.path == "/props"
                    ? .json([
                        "total_slots": 2, "default_generation_settings": ["n_ctx": 4096],
                        "model_path": .string(claimed),
                    ])
                    : nil
            }, extraFiles: Self.manyReviews())
        var options = FineTuneOptions(evalset: "many")
        options.template = "sentiment/plain"
        let refused = await #expect(throws: Refusal.self) {
            try await work.workspace.finetune(options, environment: work.environment)
        }
        #expect(
            refused?.description.contains("trains for the model the managed runtime serves") == true,
            "\(String(describing: refused))")
    }

    /// The trainer runs third-party code (torch, transformers, peft, a conversion script): it is
    /// given what Python and the GPU need, not the keys of pwb's environment.
    @Test func theTrainerGetsNoKeysFromTheEnvironment() async throws {
        let folder = NSTemporaryDirectory() + "pwb-trainer-env-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A name no other test reads; set in this process, as a user's shell would have it.
        setenv("PWB_TRAINER_CHECK_API_KEY", "sk-not-for-the-trainer", 1)
        defer { unsetenv("PWB_TRAINER_CHECK_API_KEY") }
        let log = folder + "/training.log"
        try await TrainerProcess(python: "/bin/sh", arguments: ["-c", "env >&2"], log: log).events(stop: nil) { _ in }
        let seen = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!seen.contains("sk-not-for-the-trainer"), "\(seen)")
        #expect(!seen.contains("_API_KEY="), "\(seen)")
        #expect(seen.contains("PATH=") && seen.contains("HF_HUB_OFFLINE=1"), "\(seen)")
    }

    @Test func theGainPerDoublingIsTheLeastSquaresSlopeOverLog2() throws {
        // scipy.stats.linregress(np.log2([20, 40, 80]), [0.70, 0.85, 0.90]).slope = 0.1
        let three = try #require(Advice.FineTuned.gainPerDoubling([(20, 0.70), (40, 0.85), (80, 0.90)]))
        #expect(abs(three - 0.1) < 1e-12)
        // scipy.stats.linregress(np.log2([8, 16]), [0.55, 0.6]).slope = 0.05 (two points: their slope)
        let two = try #require(Advice.FineTuned.gainPerDoubling([(8, 0.55), (16, 0.60)]))
        #expect(abs(two - 0.05) < 1e-12)
        #expect(Advice.FineTuned.gainPerDoubling([(8, 0.5)]) == nil)
        #expect(Advice.FineTuned.gainPerDoubling([(8, 0.5), (8, 0.7)]) == nil, "one size is no slope")
    }
}
