import Foundation
import Testing

/// `pwb finetune`, `pwb eval --adapter` and `pwb advise --finetune` with the real trainer, the real
/// llama-server and the default model, on small settings: training is real, and so are the scores.
@Suite(.serialized)
struct RealFineTuneEndToEndTests {
    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// Each case's output of the one run in an `eval --json` report, and the run's model identity.
    static func outputs(_ text: String) throws -> (outputs: [String: String], identity: String, cached: Double) {
        let report = try #require(try json(text) as? [String: Any])
        let runs = try #require(report["runs"] as? [[String: Any]])
        let cases = try #require(report["cases"] as? [[String: Any]])
        var outputs: [String: String] = [:]
        for row in cases { outputs[row["case"] as? String ?? ""] = row["output"] as? String ?? "" }
        return (
            outputs, try #require(runs.first?["model_identity"] as? String),
            try #require(runs.first?["cached_share"] as? Double)
        )
    }

    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }

    /// Each case's label probabilities in a one-token `eval --json` report.
    static func probabilities(_ text: String) throws -> [String: [String: Double]] {
        let report = try #require(try json(text) as? [String: Any])
        let cases = try #require(report["cases"] as? [[String: Any]])
        var found: [String: [String: Double]] = [:]
        for row in cases {
            let detail = ((row["scores"] as? [String: Any])?["label"] as? [String: Any])?["detail"] as? [String: Any]
            found[row["case"] as? String ?? ""] = detail?["probabilities"] as? [String: Double] ?? [:]
        }
        return found
    }

    /// `pwb run --case ID --json`: the answer and each generated token with its top log-probabilities.
    static func answer(_ work: WorkFolder, case id: String) async throws -> (text: String, logprobs: [[String: Any]]) {
        let run = try await work.pwb("run", "sentiment/instruction", "--case", id, "--json")
        #expect(run.status == 0, "\(run)")
        let object = try #require(try json(run.stdout) as? [String: Any])
        return (object["output"] as? String ?? "", object["logprobs"] as? [[String: Any]] ?? [])
    }

    /// Whether two answers are the same tokens with the same top log-probabilities (to 0.05: a prompt
    /// read after a different cached prefix is computed in other chunks, which moves the last
    /// digits; an adapter applied moves them much further).
    static func same(_ a: (text: String, logprobs: [[String: Any]]), _ b: (text: String, logprobs: [[String: Any]]))
        -> Bool
    {
        guard a.text == b.text, a.logprobs.count == b.logprobs.count else { return false }
        for (x, y) in zip(a.logprobs, b.logprobs) {
            guard x["token"] as? String == y["token"] as? String else { return false }
            let xs = (x["top"] as? [[String: Any]] ?? []).map {
                ($0["token"] as? String ?? "", $0["logprob"] as? Double ?? 0)
            }
            let ys = (y["top"] as? [[String: Any]] ?? []).map {
                ($0["token"] as? String ?? "", $0["logprob"] as? Double ?? 0)
            }
            guard xs.map(\.0) == ys.map(\.0), zip(xs, ys).allSatisfy({ abs($0.1 - $1.1) < 0.05 }) else { return false }
        }
        return true
    }

    @Test func trainsAnAdapterTheRuntimeServesBesideTheBaseModelAndItChangesAnswers() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        // The base model's answers from a server with no adapter loaded: generated, read from one
        // token, and one case's tokens with their log-probabilities.
        // One request at a time, each the same computation whatever else the server does: two slots
        // batched together round differently, enough to move a greedy answer now and then.
        let one = ["--concurrency", "1"]
        let plain = try await work.pwb(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "16", "--json"] + one)
        #expect(plain.status == 0, "\(plain)")
        let reference = try Self.outputs(plain.stdout).outputs
        let plainOneToken = try await work.pwb(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "16", "--reader", "one-token", "--json"] + one
        )
        #expect(plainOneToken.status == 0, "\(plainOneToken)")
        let referenceProbabilities = try Self.probabilities(plainOneToken.stdout)
        let probe = try #require(reference.keys.sorted().first)
        let referenceAnswer = try await Self.answer(work, case: probe)
        #expect(!referenceAnswer.logprobs.isEmpty)

        let trained = try await work.pwb(
            "finetune", "sentiment", "--template", "sentiment/instruction", "--examples", "8", "--epochs", "2",
            "--rank", "4", "--learning-rate", "0.001", "--name", "tiny")
        #expect(trained.status == 0, "\(trained)")
        #expect(trained.stdout.contains("\ntiny "), "\(trained)")
        #expect(trained.stderr.contains("score it: pwb eval sentiment --variants instruction --adapter tiny"))

        let listed = try await work.pwb("adapters", "--json")
        let adapters = try #require(try Self.json(listed.stdout) as? [[String: Any]])
        #expect(adapters.count == 1)
        let adapter = try #require(adapters.first)
        let path = try #require(adapter["path"] as? String)
        let hash = try #require(adapter["hash"] as? String)
        #expect(FileManager.default.contents(atPath: path)?.prefix(4) == Data("GGUF".utf8), "a GGUF adapter")
        #expect(try Self.sha256(path) == hash)
        let training = try #require(adapter["training"] as? [String: Any])
        #expect(training["examples"] as? Int == 8)
        // Two of the 8 held out to choose the epoch by: one step of 6 per epoch, at most two epochs.
        #expect((training["losses"] as? [Double])?.count == 2, "\(training)")
        #expect((training["validation_losses"] as? [Double])?.count == 2)
        #expect([1, 2].contains(training["best_epoch"] as? Int ?? 0))
        #expect(training["device"] as? String == "cpu", "no GPU on the machines this runs on")
        #expect((training["training_seconds"] as? Double ?? 0) > 0)
        #expect((training["examples_per_second"] as? Double ?? 0) > 0)
        #expect(((training["machine"] as? [String: Any])?["cores"] as? Int ?? 0) > 0)
        #expect((training["data_hash"] as? String)?.count == 64)

        let base = try await work.pwb("eval", "sentiment", "--variants", "instruction", "--limit", "16", "--json")
        #expect(base.status == 0, "\(base)")
        let tuned = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "16", "--adapter", "tiny", "--json")
        #expect(tuned.status == 0, "\(tuned)")
        let before = try Self.outputs(base.stdout)
        let after = try Self.outputs(tuned.stdout)
        #expect(after.identity == before.identity + "+lora:\(hash.prefix(16))@1")
        #expect(before.outputs.keys.count == 16 && after.outputs.keys == before.outputs.keys)
        #expect(
            before.outputs.contains { after.outputs[$0.key] != $0.value },
            "the adapter changes answers: \(before.outputs) vs \(after.outputs)")
        let runtime = try #require(try Self.json(try work.read(".pwb/runtime.json")) as? [String: Any])
        #expect((runtime["adapters"] as? [String]) == [path], "the runtime loaded it")
        let tunedOneToken = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "16", "--reader", "one-token", "--adapter",
            "tiny", "--json")
        #expect(tunedOneToken.status == 0, "\(tunedOneToken)")
        let tunedAnswer = try await work.pwb(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "1", "--adapter", "tiny", "--no-cache"] + one)
        #expect(tunedAnswer.status == 0, "\(tunedAnswer)")

        // The base model asked again, now that the server has the adapter loaded and its slots
        // were last used through it: the answers of a server with no adapter, not the adapter's.
        let fresh = try await work.pwb(
            ["eval", "sentiment", "--variants", "instruction", "--limit", "16", "--no-cache", "--json"] + one)
        #expect(fresh.status == 0, "\(fresh)")
        #expect(try Self.outputs(fresh.stdout).outputs == reference, "generated base answers beside an adapter")
        let freshOneToken = try await work.pwb(
            [
                "eval", "sentiment", "--variants", "instruction", "--limit", "16", "--reader", "one-token",
                "--no-cache",
                "--json",
            ] + one)
        let probabilities = try Self.probabilities(freshOneToken.stdout)
        #expect(probabilities.keys == referenceProbabilities.keys)
        // A prompt read after a different cached prefix is computed in other chunks, which moves the
        // last digits (up to about 0.01 here); an adapter applied moves them by far more.
        func farthest(_ a: [String: [String: Double]], _ b: [String: [String: Double]]) -> Double {
            a.flatMap { id, labels in labels.map { abs($0.value - (b[id]?[$0.key] ?? -1)) } }.max() ?? 0
        }
        let tunedProbabilities = try Self.probabilities(tunedOneToken.stdout)
        #expect(farthest(tunedProbabilities, referenceProbabilities) > 0.05, "the adapter moves some case far")
        #expect(
            farthest(probabilities, referenceProbabilities) < 0.02,
            "one-token base probabilities beside an adapter \(probabilities) vs \(referenceProbabilities)")
        let answer = try await Self.answer(work, case: probe)
        #expect(Self.same(answer, referenceAnswer), "pwb run: \(answer) vs \(referenceAnswer)")

        // The same request again: the adapter is reused, its answers come from the cache.
        let again = try await work.pwb(
            "finetune", "sentiment", "--template", "sentiment/instruction", "--examples", "8", "--epochs", "2",
            "--rank", "4", "--learning-rate", "0.001", "--name", "tiny")
        #expect(again.status == 0 && again.stderr.contains("reusing adapter tiny"), "\(again)")
        let cached = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction", "--limit", "16", "--adapter", "tiny", "--json")
        #expect(try Self.outputs(cached.stdout).cached == 1)
        let base2 = try await work.pwb("eval", "sentiment", "--variants", "instruction", "--limit", "16", "--json")
        #expect(try Self.outputs(base2.stdout).outputs == reference, "the base model answers as before")
    }

    @Test func theAdvisorMeasuresFineTuningOnTheShippedSentimentTask() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let advice = try await work.pwb(
            "advise", "sentiment", "--budget", "16", "--max-shots", "1", "--draws", "1", "--finetune", "--finetune-max",
            "16", "--finetune-epochs", "1", "--follow-up", "0")
        #expect(advice.status == 0, "\(advice)")
        #expect(
            advice.stderr.contains("fine-tuning: adapters on 8, 16 train cases, at most 1 epoch each, about"),
            "\(advice)")
        let out = advice.stdout
        #expect(out.contains("4. Fine-tuning\n   LoRA adapters trained here on the first N train cases"), "\(out)")
        #expect(out.contains("per doubling of the train cases"))
        let shown = try await work.pwb("advise", "--show", "1", "--json")
        let json = try #require(try Self.json(shown.stdout) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        let tuned = try #require(steps.compactMap { $0["fine_tuning"] as? [String: Any] }.first)
        let adapters = try #require(tuned["adapters"] as? [[String: Any]])
        #expect(adapters.map { $0["train_cases"] as? Int } == [8, 16])
        #expect(tuned["gain_per_doubling"] as? Double != nil)
        let rungs = try #require(json["rungs"] as? [[String: Any]])
        let tunedRungs = rungs.filter { ($0["label"] as? String)?.hasPrefix("fine-tuned on ") == true }
        #expect(tunedRungs.map { $0["labeled_examples"] as? Int } == [8, 16])
        #expect(tunedRungs.allSatisfy { ($0["one_off_seconds"] as? Double ?? 0) > 0 }, "the measured training time")
        #expect(tunedRungs.allSatisfy { $0["cases"] as? Int == 16 }, "scored on the same dev cases")
        let page = try await work.pwb("report", "--advice", "latest")
        #expect(page.stdout.contains("<h2>Fine-tuning</h2>"), "the HTML advice shows the adapters")
        #expect(page.stdout.contains("LoRA adapters trained here on the first N train cases"))
        // The tuned rungs' runs were made through the adapters, on the same server.
        let runs = try await work.pwb("runs", "list", "--json")
        let listed = try #require(try Self.json(runs.stdout) as? [[String: Any]])
        #expect(listed.filter { ($0["model"] as? String)?.contains("+lora:") == true }.count == 2)
    }

    @Test func ctrlCStopsTheTrainingAndStoresNothingHalfMade() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PwbProcess.binary)
        process.arguments = ["finetune", "sentiment", "--template", "sentiment/instruction"]
        process.currentDirectoryURL = URL(fileURLWithPath: work.path)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Interrupted once the trainer has its data: while it loads the model or trains.
        let adapters = work.path + "/.pwb/adapters"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: adapters)) ?? []
            if let training = names.first(where: { $0.hasPrefix(".training-") }),
                FileManager.default.fileExists(atPath: "\(adapters)/\(training)/train.jsonl")
            {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(2))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(message.contains("pwb: stopping the training"))
        #expect(message.contains("training stopped; no adapter was stored"), "\(message)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: adapters)) ?? []
        #expect(left.allSatisfy { !$0.hasPrefix(".training-") && !$0.hasSuffix(".gguf") }, "\(left)")
        let listed = try await work.pwb("adapters")
        #expect(listed.stderr.contains("No adapters yet."))
    }

    @Test func withoutTheTrainerFineTuningSaysHowToInstallIt() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let cache = NSHomeDirectory() + "/.cache/pwb"
        let environment = [
            "XDG_CACHE_HOME": work.path + "/empty-cache", "PWB_LLAMA_SERVER": cache + "/bin/llama-server",
            "PWB_MODEL_PATH": cache + "/models/gemma-3-270m-q4_k_m.gguf",
        ]
        let result = try await work.pwb(
            "finetune", "sentiment", "--template", "sentiment/instruction", environment: environment)
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("the LoRA trainer is not installed"), "\(result)")
        #expect(result.stderr.contains("make trainer or pwb finetune --install"))
        let listed = try await work.pwb("adapters", environment: environment)
        #expect(listed.stderr.contains("No adapters yet."))
    }
}
