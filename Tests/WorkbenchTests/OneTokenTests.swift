import Foundation
import ModelRuntime
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

@Suite struct OneTokenTests {
    /// The right label is the most probable first token, but the text the stub generates
    /// never states a label: only scoring from probabilities gets the cases right.
    static let probabilities: @Sendable (String) -> [(String, Double)] = { prompt in
        let good = (prompt.components(separatedBy: "Review:").last ?? "").contains("good")
        return [(" I", -0.2), (good ? " positive" : " negative", -1.0), (good ? " Negative" : " Positive", -2.5)]
    }

    static func work(
        settings: String = #"{"scorers": [{"type": "label", "labels": ["positive", "negative"]}], "input": "text"}"#,
        fault: @escaping @Sendable (StubRequest) -> StubReply? = { _ in nil }
    ) throws -> StubWorkspace {
        try StubWorkspace(answer: { _ in " I think" }, probabilities: probabilities, fault: fault, settings: settings)
    }

    @Test func oneTokenIsAskedAndTheLabelScoredFromItsProbabilities() async throws {
        let work = try Self.work()
        let generated = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(generated.runs[0].headline?.interval.estimate == 0, "the text never names a label")
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.oneToken = true
            })
        let run = report.runs[0]
        #expect(run.oneToken)
        #expect(run.cachedShare == 0, "a one-token answer is not the generated one")
        #expect(run.headline?.interval.estimate == 1)
        let sent = work.completions.suffix(8)
        #expect(sent.count == 8 && sent.allSatisfy { $0.json?["n_predict"] == 1 && $0.json?["n_probs"] == 20 })
        // Each case keeps every label's probability: e^-1 against e^-2.5, renormalized.
        let rows = try work.workspace.caseRows(run.run)
        let detail = try #require(rows.first?["scores"]?["label"]?["detail"])
        let expected = 1 / (1 + exp(-1.5))
        #expect(abs((detail["p_expected"]?.doubleValue ?? 0) - expected) < 1e-9, "\(detail)")
        // Asked again, every answer comes from the cache.
        let again = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.oneToken = true
            })
        #expect(again.runs[0].cachedShare == 1)
        #expect(again.runs[0].headline?.interval.estimate == 1)
    }

    @Test func aResumedRunStaysOneToken() async throws {
        let work = try Self.work()
        let stop = StopRequest()
        stop.request()
        let interrupted = await #expect(throws: EvalInterrupted.self) {
            try await work.evaluate(
                work.options {
                    $0.variants = ["plain"]
                    $0.oneToken = true
                }, stop: stop)
        }
        let runID = try #require(interrupted?.runs.first)
        let report = try await work.workspace.resume(runID: runID, environment: work.environment)
        #expect(report.runs[0].oneToken && report.runs[0].headline?.interval.estimate == 1)
        #expect(work.completions.allSatisfy { $0.json?["n_predict"] == 1 })
    }

    @Test func labelsBeginningWithTheSameTokenAreRefusedBeforeAnyCaseIsSent() async throws {
        let work = try Self.work(
            settings: #"{"scorers": [{"type": "label", "labels": ["very good", "fine", "very bad"]}], "input": "text"}"#
        )
        let error = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.oneToken = true })
        }
        #expect(
            error?.description.contains(#"labels "very good" and "very bad""#) == true, "\(String(describing: error))")
        #expect(error?.description.contains(#"(" very")"#) == true)
        #expect(work.completions.isEmpty)
        #expect(try work.workspace.store.runListings(limit: 10).isEmpty)
    }

    @Test func aScorerThatReadsTextIsRefused() async throws {
        let work = try Self.work(
            settings: #"{"scorers": [{"type": "label", "labels": ["positive", "negative"]}, "exact"], "input": "text"}"#
        )
        let error = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.oneToken = true })
        }
        #expect(error?.description.contains("the exact scorer") == true)
    }

    @Test func aServerThatGivesNoLogprobsIsNamedNotCrashedOn() async throws {
        // An Ollama that ignores "logprobs": its answers carry none.
        let work = try Self.work(fault: { request in
            guard request.path == "/api/generate" else { return nil }
            return .json(["model": "m", "done": true, "done_reason": "stop", "response": " positive", "eval_count": 1])
        })
        work.environment["PWB_PROVIDER"] = "ollama"
        work.environment["PWB_MODEL"] = "m"
        let error = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.oneToken = true })
        }
        #expect(
            error?.description.contains("one-token scores labels from log-probabilities, but m (ollama at") == true,
            "\(String(describing: error))")
        #expect(error?.message.parts.first == .setting("one-token"), "the option is named as such, for the CLI to word")
        #expect(try work.workspace.store.runListings(limit: 10).isEmpty)
    }

    @Test func anOllamaThatGivesLogprobsIsScoredFromThem() async throws {
        let work = try Self.work()
        work.environment["PWB_PROVIDER"] = "ollama"
        work.environment["PWB_MODEL"] = "m"
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.oneToken = true
            })
        #expect(report.runs[0].headline?.interval.estimate == 1)
        let asked = work.stub.requests(to: "/api/generate")
        // Eight dev cases, eight requests: the check's answer to the first case is kept in the
        // cache and not asked again.
        #expect(asked.count == 8)
        #expect(report.runs[0].cachedShare == 1.0 / 8)
        #expect(asked.allSatisfy { $0.json?["options"]?["num_predict"] == 1 && $0.json?["top_logprobs"] == 20 })
    }
}

@Suite struct OneTokenAdvisorTests {
    @Test func everyRungOfTheLadderIsScoredFromOneToken() async throws {
        let work = try OneTokenTests.work()
        var options = AdviceOptions.smallSentiment
        options.oneToken = true
        let advice = try await work.workspace.advise(options, environment: work.environment)
        #expect(advice.oneToken == true)
        // The stub's text never names a label; its first-token probabilities always do.
        #expect(advice.zeroShot.variants.allSatisfy { $0.interval.estimate == 1 })
        #expect(!work.completions.isEmpty && work.completions.allSatisfy { $0.json?["n_predict"] == 1 })
        let stored = try work.workspace.advice(id: advice.id)
        #expect(stored.oneToken == true)
    }
}

@Suite struct AdvisorReadsLabelsFromOneTokenByDefaultTests {
    @Test func byDefaultTheLadderReadsLabelsFromOneTokenAndGenerateAsksForText() async throws {
        let work = try OneTokenTests.work()
        var options = AdviceOptions.smallSentiment
        let advice = try await work.workspace.advise(options, environment: work.environment)
        #expect(advice.oneToken == true)
        #expect(work.completions.allSatisfy { $0.json?["n_predict"] == 1 })
        // The stub's text never names a label; its first-token probabilities always do.
        #expect(advice.rungs.allSatisfy { $0.interval.estimate == 1 })

        let generated = try OneTokenTests.work()
        options.oneToken = false
        let text = try await generated.workspace.advise(options, environment: generated.environment)
        #expect(text.oneToken != true)
        #expect(!generated.completions.isEmpty && generated.completions.allSatisfy { $0.json?["n_predict"] == 3 })
        #expect(text.rungs.allSatisfy { $0.interval.estimate == 0 }, "\" I think\" is no label")
    }

    @Test func labelsOneTokenCannotTellApartAreGeneratedWithANoteSayingWhy() async throws {
        // A tokenizer that starts every text with the same token.
        let work = try OneTokenTests.work(fault: { request in
            guard request.path == "/tokenize" else { return nil }
            return .json(["tokens": [["id": 7, "piece": " The"], ["id": 8, "piece": " rest"]]])
        })
        var options = AdviceOptions.smallSentiment
        let said = Mutex<[String]>([])
        let advice = try await work.workspace.advise(
            options, environment: work.environment, notes: { note in said.withLock { $0.append(note) } })
        #expect(advice.oneToken != true)
        #expect(!work.completions.isEmpty && work.completions.allSatisfy { $0.json?["n_predict"] == 3 })
        let notes = said.withLock { $0 }
        #expect(
            notes.contains {
                $0.contains("the labels are generated, not read from one token") && $0.contains(#"(" The")"#)
            },
            "\(notes)")
        // Asked for, one token is refused with the same reason.
        options.oneToken = true
        let refusal = await #expect(throws: Refusal.self) {
            try await work.workspace.advise(options, environment: work.environment)
        }
        #expect(
            refusal?.description.contains(#"begin with the same token (" The")"#) == true,
            "\(String(describing: refusal))")
    }
}
