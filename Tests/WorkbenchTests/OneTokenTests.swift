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
                $0.reader = .oneToken
            })
        let run = report.runs[0]
        #expect(run.reader == .oneToken)
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
                $0.reader = .oneToken
            })
        #expect(again.runs[0].cachedShare == 1)
        #expect(again.runs[0].headline?.interval.estimate == 1)
    }

    @Test func aResumedRunStaysOneToken() async throws {
        // Stopped as its first answer is asked (a stop before that ends it before any run is made).
        let stop = StopRequest()
        let work = try Self.work(fault: { request in
            if request.path == "/completion" { stop.request() }
            return nil
        })
        let interrupted = await #expect(throws: EvalInterrupted.self) {
            try await work.evaluate(
                work.options {
                    $0.variants = ["plain"]
                    $0.reader = .oneToken
                }, stop: stop)
        }
        let runID = try #require(interrupted?.runs.first)
        let report = try await work.workspace.resume(runID: runID, environment: work.environment)
        #expect(report.runs[0].reader == .oneToken && report.runs[0].headline?.interval.estimate == 1)
        #expect(work.completions.allSatisfy { $0.json?["n_predict"] == 1 })
    }

    @Test func labelsBeginningWithTheSameTokenAreRefusedBeforeAnyCaseIsSent() async throws {
        let work = try Self.work(
            settings: #"{"scorers": [{"type": "label", "labels": ["very good", "fine", "very bad"]}], "input": "text"}"#
        )
        let error = await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.reader = .oneToken })
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
            try await work.evaluate(work.options { $0.reader = .oneToken })
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
            try await work.evaluate(work.options { $0.reader = .oneToken })
        }
        #expect(
            error?.description.contains("reader one-token scores labels from log-probabilities, but m (ollama at")
                == true,
            "\(String(describing: error))")
        #expect(error?.message.parts.first == .setting("reader"), "the option is named as such, for the CLI to word")
        #expect(try work.workspace.store.runListings(limit: 10).isEmpty)
    }

    @Test func anOllamaThatGivesLogprobsIsScoredFromThem() async throws {
        let work = try Self.work()
        work.environment["PWB_PROVIDER"] = "ollama"
        work.environment["PWB_MODEL"] = "m"
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.reader = .oneToken
            })
        #expect(report.runs[0].headline?.interval.estimate == 1)
        let asked = work.stub.requests(to: "/api/generate")
        // Eight dev cases, eight requests: the check's answer to the first case is kept in the
        // cache and not asked again.
        #expect(asked.count == 8)
        #expect(report.runs[0].cachedShare == 1.0 / 8)
        // Without a tokenizer to say how a label's answer begins, one whitespace-only token is read past.
        #expect(asked.allSatisfy { $0.json?["options"]?["num_predict"] == 2 && $0.json?["top_logprobs"] == 20 })
    }
}

@Suite struct OneTokenPastWhitespaceTests {
    /// A tokenizer that writes " 返品" as a bare space and then 返品 (as Gemma's does), and a model
    /// whose first step is that space and whose second names the label: the first step's
    /// alternatives favour " ア", the beginning of " アカウント".
    static func work() throws -> StubWorkspace {
        let labels = ["配送", "返品", "支払い", "アカウント"]
        let settings = #"{"scorers": [{"type": "label", "labels": ["配送", "返品", "支払い", "アカウント"]}], "input": "text"}"#
        return try StubWorkspace(
            answer: { _ in " 返品" },
            fault: { request in
                if request.path == "/tokenize", let content = request.json?["content"]?.stringValue,
                    request.json?["with_pieces"]?.boolValue == true
                {
                    let word = content.trimmingCharacters(in: .whitespaces)
                    let id = (labels.firstIndex(of: word) ?? 9) + 100
                    let pieces: [JSONValue] =
                        content.hasPrefix(" ")
                        ? [["id": 1, "piece": " "], ["id": .number(Double(id)), "piece": .string(word)]]
                        : [["id": .number(Double(id)), "piece": .string(word)]]
                    return .json(["tokens": .array(pieces)])
                }
                guard request.path == "/completion", request.json?["n_probs"] != nil else { return nil }
                let steps: JSONValue = [
                    [
                        "token": " ", "logprob": -0.01,
                        "top_logprobs": [["token": " ", "logprob": -0.01], ["token": " ア", "logprob": -4.6]],
                    ],
                    [
                        "token": "返品", "logprob": -0.1,
                        "top_logprobs": [["token": "返品", "logprob": -0.1], ["token": "アカウント", "logprob": -2.4]],
                    ],
                ]
                let n = request.json?["n_predict"]?.intValue ?? 1
                return .json([
                    "content": n >= 2 ? " 返品" : " ", "tokens_evaluated": 10, "tokens_predicted": .number(Double(n)),
                    "stop_type": "limit", "model": "stub",
                    "completion_probabilities": .array(Array((steps.arrayValue ?? []).prefix(n))),
                ])
            }, settings: settings)
    }

    @Test func theLabelIsReadPastAWhitespaceOnlyFirstToken() async throws {
        let work = try Self.work()
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.reader = .oneToken
            })
        let sent = work.completions.compactMap(\.json)
        #expect(!sent.isEmpty && sent.allSatisfy { $0["n_predict"] == 2 }, "one step of space, then the label")
        #expect(report.runs[0].run.params.readTokens == 2)
        let rows = try work.workspace.caseRows(report.runs[0].run)
        let predicted = rows.compactMap { $0["scores"]?["label"]?["detail"]?["predicted"]?.stringValue }
        #expect(predicted.count == rows.count && predicted.allSatisfy { $0 == "返品" }, "\(predicted)")
    }
}

@Suite struct ChoiceReaderTests {
    /// A model whose free text is no label, and which answers in a label only when constrained.
    static func work(provider: String? = nil) throws -> StubWorkspace {
        let work = try StubWorkspace(
            answer: { _ in " I think" },
            fault: { request in
                let body = request.json
                let constrained =
                    body?["grammar"] != nil || body?["response_format"] != nil || body?["format"] != nil
                    || body?["guided_choice"] != nil
                guard constrained else { return nil }
                let prompt =
                    body?["prompt"]?.stringValue ?? body?["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
                let label =
                    (prompt.components(separatedBy: "Review:").last ?? "").contains("good") ? "positive" : "negative"
                switch request.path {
                case "/completion":
                    return .json(["content": .string(" " + label), "stop_type": "eos", "tokens_predicted": 1])
                case "/v1/chat/completions":
                    return .json([
                        "choices": [
                            ["message": ["role": "assistant", "content": .string(#"{"answer": "\#(label)"}"#)]]
                        ]
                    ])
                case "/v1/completions":
                    return .json(["choices": [["text": .string(label)]]])
                case "/api/generate", "/api/chat":
                    return .json(["done": true, "response": .string(#"{"answer": "\#(label)"}"#)])
                default: return nil
                }
            })
        if let provider {
            work.environment["PWB_PROVIDER"] = provider
            work.environment["PWB_MODEL"] = "m"
            if provider == "openai" { work.environment["PWB_ENDPOINT"] = work.stub.url.absoluteString + "/v1" }
        }
        return work
    }

    @Test(arguments: [nil, "openai", "ollama"])
    func aConstrainedAnswerIsOneOfTheLabelsAndTheServerIsToldSoItsWay(provider: String?) async throws {
        let work = try Self.work(provider: provider)
        let free = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(free.runs[0].headline?.interval.estimate == 0, "\" I think\" is no label")
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.reader = .choice
            })
        #expect(report.runs[0].reader == .choice)
        #expect(report.runs[0].headline?.interval.estimate ?? 0 > 0.99, "every constrained answer is the right label")
        let last = try #require(work.stub.requests.last?.json)
        switch provider {
        case nil:
            #expect(last["grammar"] == #"root ::= " "? ("positive" | "negative")"#)
        case "openai":
            #expect(last["guided_choice"] == ["positive", "negative"], "a raw completion: vLLM's guided choice")
        default:
            #expect(last["format"]?["properties"]?["answer"]?["enum"] == ["positive", "negative"])
        }
    }
}

@Suite struct OneTokenAdvisorTests {
    @Test func everyRungOfTheLadderIsScoredFromOneTokenWhenAskedFor() async throws {
        let work = try OneTokenTests.work()
        var options = AdviceOptions.smallSentiment
        options.reader = .oneToken
        let advice = try await work.workspace.advise(options, environment: work.environment)
        #expect(advice.reader == .oneToken)
        // The stub's text never names a label; its first-token probabilities always do.
        #expect(try #require(advice.zeroShot).variants.allSatisfy { $0.interval.estimate == 1 })
        let ladder = work.completions.filter { $0.json?["n_predict"] == 1 }
        #expect(!ladder.isEmpty && work.completions.allSatisfy { [1, 3].contains($0.json?["n_predict"]) })
        // The rungs that decide, scored generated too: the readers disagree, and the generated
        // scores (no label in " I think") decide.
        let check = try #require(advice.readerCheck)
        #expect(!check.entries.isEmpty && check.entries.allSatisfy { $0.disagrees && $0.generated.estimate == 0 })
        let generated = work.completions.filter { $0.json?["n_predict"] == 3 }
        #expect(generated.count == check.entries.count * 8)
        #expect(advice.finalDecision?.rungs.allSatisfy { $0.interval.estimate == 0 } == true)
        #expect(advice.reasons.contains { $0.description.contains("The generated scores decide") })
        let stored = try work.workspace.advice(id: advice.id)
        #expect(stored.reader == .oneToken && stored.readerCheck?.entries == advice.readerCheck?.entries)
    }

    @Test func byDefaultTheLadderGeneratesItsAnswers() async throws {
        let work = try OneTokenTests.work()
        let advice = try await work.workspace.advise(AdviceOptions.smallSentiment, environment: work.environment)
        #expect(advice.reader == .generate)
        #expect(!work.completions.isEmpty && work.completions.allSatisfy { $0.json?["n_predict"] == 3 })
        #expect(advice.rungs.allSatisfy { $0.interval.estimate == 0 }, "\" I think\" is no label")
    }

    @Test func labelsOneTokenCannotTellApartAreRefusedWhenItIsAskedFor() async throws {
        // A tokenizer that starts every text with the same token.
        let work = try OneTokenTests.work(fault: { request in
            guard request.path == "/tokenize" else { return nil }
            return .json(["tokens": [["id": 7, "piece": " The"], ["id": 8, "piece": " rest"]]])
        })
        var options = AdviceOptions.smallSentiment
        options.reader = .oneToken
        let refusal = await #expect(throws: Refusal.self) {
            try await work.workspace.advise(options, environment: work.environment)
        }
        #expect(
            refusal?.description.contains(#"begin with the same token (" The")"#) == true,
            "\(String(describing: refusal))")
        #expect(work.completions.isEmpty)
    }
}
