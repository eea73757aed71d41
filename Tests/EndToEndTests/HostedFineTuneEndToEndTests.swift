import Foundation
import StubRuntime
import Testing
import WorkbenchCore

/// `pwb advise --model NAME --finetune` on a configured OpenAI-compatible model, against a stub of
/// the fine-tuning API whose base model tells even from odd for 60% of numbers and whose tuned
/// model for 95%: the job is asked for, runs on chat-format data, and its model is a rung.
@Suite struct HostedFineTuneEndToEndTests {
    static let base = "gpt-4o-mini-2024-07-18"

    /// A two-label task: train numbers 1…60, dev numbers 101…140.
    static func work(_ server: StubServer) throws -> WorkFolder {
        let work = try WorkFolder()
        try work.write(
            "templates/parity/ask.prompt",
            """
            ---
            evalset: parity
            max_tokens: 3
            stop: ["\\n"]
            ---
            Is {{n}} even or odd?
            Answer:
            """)
        try work.write(
            "evalsets/parity.json",
            #"{"scorers": [{"type": "label", "labels": ["even", "odd"]}], "input": "n"}"#)
        let lines = (Array(1...60).map { ($0, "train") } + Array(101...140).map { ($0, "dev") }).map { n, split in
            #"{"id": "n\#(n)", "vars": {"n": "\#(n)"}, "expected": "\#(n % 2 == 0 ? "even" : "odd")", "split": "\#(split)"}"#
        }
        try work.write("evalsets/parity.jsonl", lines.joined(separator: "\n"))
        try work.write(
            ".pwb/config.json",
            #"{"models": {"m": {"provider": "openai", "endpoint": "\#(server.url.absoluteString)/v1", "model": "\#(base)", "api_key_env": "STUB_API_KEY"}}}"#
        )
        return work
    }

    static let environment = ["STUB_API_KEY": "sk-stub", "PWB_FINETUNE_POLL_SECONDS": "0.05"]

    @Test func theAdvisorRunsTheProvidersJobAndMeasuresTheTunedModelBesideTheBaseRungs() async throws {
        let api = StubFineTuningAPI(flavor: .openAI, key: nil)
        let server = try StubServer(model: .parity(name: Self.base)) { api.handle($0) }
        defer { server.stop() }
        let work = try Self.work(server)
        try await work.pwb("import", "templates", "evalsets")
        let options = ["--model", "m", "--finetune", "--budget", "40", "--price-train", "25", "--json"]

        // Nothing is spent unless asked: the plan is said, and no job is started.
        let unasked = try await work.pwb(["advise", "parity"] + options, environment: Self.environment)
        #expect(unasked.status == 2, "\(unasked)")
        #expect(unasked.stderr.contains("would be started and billed"), "\(unasked)")
        #expect(api.jobRequests.isEmpty && api.uploads.isEmpty)

        let advice = try await work.pwb(["advise", "parity", "--yes"] + options, environment: Self.environment)
        #expect(advice.status == 0, "\(advice)")
        // The job ran on chat-format data: the zero-shot prompt as the user's turn, the label as the answer.
        let job = try #require(api.jobRequests.first)
        #expect(job["model"]?.stringValue == Self.base)
        let training = try #require(api.uploads.first { $0.filename.hasSuffix("-train.jsonl") })
        let first = try #require(training.lines.first)
        let messages = try #require(first["messages"]?.arrayValue)
        #expect(messages.first?["content"]?.stringValue?.hasPrefix("Is 1 even or odd?") == true, "\(first)")
        #expect(messages.last == ["role": "assistant", "content": "odd"])

        let json = try #require(try JSONSerialization.jsonObject(with: Data(advice.stdout.utf8)) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        let tuned = try #require(steps.compactMap { $0["fine_tuning"] as? [String: Any] }.first)
        let record = try #require(tuned["job"] as? [String: Any])
        #expect((record["id"] as? String)?.hasPrefix("ftjob-") == true)
        #expect((record["trained_tokens"] as? Int ?? 0) > 0)
        let rungs = try #require(json["rungs"] as? [[String: Any]])
        func score(_ rung: [String: Any]) -> Double {
            (rung["interval"] as? [String: Any])?["estimate"] as? Double ?? -1
        }
        let fineTuned = try #require(rungs.first { ($0["label"] as? String)?.hasPrefix("fine-tuned (ft:") == true })
        let zeroShot = try #require(rungs.first { ($0["label"] as? String)?.hasPrefix("zero-shot") == true })
        #expect(abs(score(fineTuned) - 0.95) <= 0.05, "the tuned model: \(score(fineTuned))")
        #expect(abs(score(zeroShot) - 0.60) <= 0.05, "the base model: \(score(zeroShot))")
        #expect(fineTuned["cases"] as? Int == zeroShot["cases"] as? Int, "on the same dev cases")
        #expect((fineTuned["one_off_usd"] as? Double ?? 0) > 0, "its trained tokens at --price-train")
        #expect(fineTuned["one_off_paid"] as? Bool == true)

        // Asked again, the tuned model from before is reused: no second job.
        let again = try await work.pwb(["advise", "parity", "--yes"] + options, environment: Self.environment)
        #expect(again.status == 0, "\(again)")
        #expect(api.jobRequests.count == 1, "the same data and settings reuse the tuned model")
    }
}
