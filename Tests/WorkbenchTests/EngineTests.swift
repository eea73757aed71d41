import Foundation
import ModelRuntime
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// A workspace in a temporary folder with a small sentiment task, pointed at a stub model.
final class StubWorkspace {
    let folder: String
    let workspace: Workspace
    let stub: StubServer
    var environment: [String: String]

    static let reviews: [(String, String, String)] = [
        ("good food and good staff", "positive", "train"), ("awful and slow", "negative", "train"),
        ("good value", "positive", "train"), ("broken on arrival", "negative", "train"),
        ("really good phone", "positive", "dev"), ("terrible battery", "negative", "dev"),
        ("good and cheap", "positive", "dev"), ("bad screen", "negative", "dev"), ("good sound", "positive", "dev"),
        ("rude staff", "negative", "dev"), ("good fit", "positive", "dev"), ("it leaks", "negative", "dev"),
    ]

    /// `answer` decides the stub's reply to each prompt; `fault` may misbehave first.
    init(
        slots: Int = 4, contextSize: Int = 4096,
        answer: @escaping @Sendable (String) -> String = StubWorkspace.keywordAnswer,
        probabilities: @escaping @Sendable (String) -> [(String, Double)] = { _ in [] },
        fault: @escaping @Sendable (StubRequest) -> StubReply? = { _ in nil },
        settings: String = #"{"scorers": [{"type": "label", "labels": ["positive", "negative"]}], "input": "text"}"#,
        extraFiles: [String: String] = [:]
    ) throws {
        folder = NSTemporaryDirectory() + "pwb-engine-" + UUID().uuidString
        let model = StubModel(
            contextSize: contextSize, slots: slots, firstTokenProbabilities: probabilities, answer: answer)
        stub = try StubServer(model: model, fault: fault)
        var files: [String: String] = [
            "templates/sentiment/plain.prompt": """
            ---
            evalset: reviews
            max_tokens: 3
            stop: ["\\n"]
            example_format: "Review: {{text}}\\nSentiment: {{expected}}"
            ---
            {{examples}}
            Review: {{text}}
            Sentiment:
            """,
            "templates/sentiment/asked.prompt": """
            ---
            evalset: reviews
            max_tokens: 3
            example_format: "Q: {{text}}\\nA: {{expected}}"
            ---
            Is it positive or negative?
            {{examples}}
            Review: {{text}}
            Answer:
            """,
            "evalsets/reviews.json": settings,
        ]
        files["evalsets/reviews.jsonl"] = StubWorkspace.reviews.enumerated().map { index, review in
            #"{"id": "r\#(index + 1)", "vars": {"text": "\#(review.0)"}, "expected": "\#(review.1)", "split": "\#(review.2)"}"#
        }.joined(separator: "\n")
        for (path, text) in extraFiles { files[path] = text }
        for (path, text) in files {
            let url = URL(fileURLWithPath: folder + "/" + path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        workspace = try Workspace(root: folder)
        _ = try workspace.importFiles([])
        environment = ["PWB_ENDPOINT": stub.url.absoluteString, "HOME": folder]
    }

    deinit {
        stub.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// " positive" when the last review says "good", else " negative": right on every case.
    static let keywordAnswer: @Sendable (String) -> String = { prompt in
        let last = prompt.components(separatedBy: "Review:").last ?? ""
        return last.contains("good") ? " positive" : " negative"
    }

    var completions: [StubRequest] { stub.requests(to: "/completion") }

    func options(_ configure: (inout EvalOptions) -> Void = { _ in }) -> EvalOptions {
        var options = EvalOptions(template: "sentiment")
        configure(&options)
        return options
    }

    func evaluate(_ options: EvalOptions, stop: StopRequest? = nil, progress: ((EvalProgress) -> Void)? = nil)
        async throws
        -> EvalReport
    {
        try await workspace.evaluate(options, environment: environment, stop: stop, progress: progress)
    }
}

@Suite struct EngineTests {
    @Test func scoresEveryVariantAndStoresEveryResult() async throws {
        let work = try StubWorkspace()
        let report = try await work.evaluate(work.options())
        #expect(report.runs.map(\.variant) == ["asked", "plain"])
        for run in report.runs {
            #expect(run.planned == 8)
            #expect(run.scored == 8)
            #expect(run.headline?.interval.estimate == 1)
            #expect(run.run.status == .completed)
            #expect(run.meanPromptTokens != nil)
            #expect(try work.workspace.store.results(runID: run.run.id).count == 8)
        }
        #expect(work.completions.count == 16)
        #expect(report.comparisons.count == 1)
        #expect(report.comparisons[0].comparison.p == 1)
    }

    @Test func neverHasMoreRequestsInFlightThanTheConcurrency() async throws {
        // Answers slow enough (0.3 s) that the requests overlap even on a busy machine.
        let work = try StubWorkspace(
            slots: 8,
            fault: { request in
                request.path == "/completion"
                    ? .delayed(0.3, StubModel { StubWorkspace.keywordAnswer($0) }.reply(request)) : nil
            })
        _ = try await work.evaluate(work.options { $0.concurrency = 3 })
        #expect(work.stub.maxInFlight == 3)
        let defaulted = try StubWorkspace(
            slots: 2,
            fault: { request in
                request.path == "/completion"
                    ? .delayed(0.3, StubModel { StubWorkspace.keywordAnswer($0) }.reply(request)) : nil
            })
        _ = try await defaulted.evaluate(defaulted.options())
        #expect(defaulted.stub.maxInFlight == 2, "the server's slot count is the default")
    }

    @Test func answersComeFromTheCacheUnlessToldOtherwise() async throws {
        let work = try StubWorkspace()
        let first = try await work.evaluate(work.options())
        let second = try await work.evaluate(work.options())
        #expect(work.completions.count == 16)
        #expect(second.runs.allSatisfy { $0.cachedShare == 1 })
        // Cached results keep the original latency and tokens.
        #expect(second.runs[0].meanPromptTokens == first.runs[0].meanPromptTokens)
        #expect(second.runs[0].latencyP50 == first.runs[0].latencyP50)
        let fresh = try await work.evaluate(work.options { $0.useCache = false })
        #expect(work.completions.count == 32)
        #expect(fresh.runs.allSatisfy { $0.cachedShare == 0 })
        _ = try await work.evaluate(
            work.options {
                $0.repeats = 2
                $0.variants = ["plain"]
            })
        #expect(work.completions.count == 40, "a second sample is a different request; the first is cached")
    }

    @Test func repeatedSamplesGiveEveryScorerAnIntervalOverCasesNotSamples() async throws {
        // Two pass/fail scorers, two samples of each of the 8 dev cases. The stub answers right
        // only every other time it is asked, so each case passes in one sample of two.
        let asked = Mutex(0)
        let work = try StubWorkspace(
            answer: { prompt in
                let turn = asked.withLock {
                    $0 += 1
                    return $0
                }
                return turn % 2 == 0 ? StubWorkspace.keywordAnswer(prompt) : " maybe"
            },
            settings:
                #"{"scorers": [{"type": "label", "labels": ["positive", "negative"]}, "contains"], "input": "text"}"#)
        let report = try await work.evaluate(
            work.options {
                $0.repeats = 2
                $0.variants = ["plain"]
                $0.concurrency = 1
            })
        let run = report.runs[0]
        #expect(run.scorers.count == 2)
        for summary in run.scorers {
            // 8 cases, each at 0.5: the interval is that of 8 values, never of 16 trials.
            #expect(summary.interval == Statistics.bootstrapMean([Double](repeating: 0.5, count: 8), seed: 1))
            #expect(summary.interval != Statistics.wilson(successes: 8, trials: 16))
        }
    }

    @Test func serverErrorsAreRetriedAndFailedCasesRecordedNotCountedWrong() async throws {
        let failures = Mutex(0)
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion", let prompt = request.json?["prompt"]?.stringValue else { return nil }
            if prompt.contains("terrible battery") {
                return .json(["error": ["message": "this prompt is refused"]], status: 400)
            }
            if prompt.contains("bad screen")
                && failures.withLock({
                    $0 += 1
                    return $0
                }) <= 2
            {
                return .json(["error": "busy"], status: 503)
            }
            return nil
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let run = report.runs[0]
        #expect(run.errors == 1)
        #expect(run.scored == 7)
        #expect(run.headline?.interval.estimate == 1, "a failed request is not a wrong answer")
        #expect(run.headline?.count == 7)
        let rows = try work.workspace.caseRows(run.run)
        let failed = try #require(rows.first { $0["error"] != .null })
        #expect(failed["case"] == "r6")
        #expect(failed["error"]?.stringValue?.contains("answered HTTP 400: this prompt is refused") == true)
        #expect(work.completions.filter { $0.json?["prompt"]?.stringValue?.contains("bad screen") == true }.count == 3)
    }

    @Test func aStoppedEvaluationResumesWithoutRedoingFinishedCases() async throws {
        let stop = StopRequest()
        let asked = Mutex(0)
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion" else { return nil }
            // Ctrl-C after the fifth request: the requests in flight finish, nothing new starts.
            if asked.withLock({
                $0 += 1
                return $0
            }) == 5 {
                stop.request()
            }
            return .delayed(0.02, StubModel { StubWorkspace.keywordAnswer($0) }.reply(request))
        })
        let interrupted = await #expect(throws: EvalInterrupted.self) {
            try await work.evaluate(
                work.options {
                    $0.useCache = false
                    $0.concurrency = 2
                }, stop: stop)
        }
        let runs = try #require(interrupted?.runs)
        let finishedBefore = try runs.map { try work.workspace.store.results(runID: $0).count }.reduce(0, +)
        #expect(finishedBefore >= 5 && finishedBefore <= 6, "the fifth and the one beside it in flight")
        #expect(try runs.allSatisfy { try work.workspace.run(id: $0).status == .interrupted })
        #expect(work.completions.count == finishedBefore)

        let resumed = try await work.workspace.resume(runID: runs[0], environment: work.environment)
        #expect(resumed.runs.allSatisfy { $0.scored == 8 && $0.run.status == .completed })
        #expect(work.completions.count == 16, "every case was asked exactly once")
        #expect(resumed.runs.map(\.run.id) == runs)
        await #expect(throws: Refusal.self) {
            try await work.workspace.resume(runID: runs[0], environment: work.environment)
        }
    }

    @Test func aRuntimeThatGoesAwayStopsTheRunResumably() async throws {
        let served = Mutex(0)
        let down = Mutex(false)
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion" else { return nil }
            if down.withLock({ $0 }) { return .drop }
            if served.withLock({
                $0 += 1
                return $0
            }) >= 6 {
                down.withLock { $0 = true }
            }
            return nil
        })
        var options = work.options {
            $0.useCache = false
            $0.concurrency = 1
        }
        options.variants = ["plain"]
        let error = await #expect(throws: EvalInterrupted.self) { try await work.evaluate(options) }
        guard case .runtimeUnavailable? = error?.reason else {
            Issue.record("not a runtime outage: \(String(describing: error))")
            return
        }
        let run = try #require(error?.runs.first)
        #expect(try work.workspace.store.results(runID: run).allSatisfy { $0.error == nil })
        down.withLock { $0 = false }
        served.withLock { $0 = -100 }
        let resumed = try await work.workspace.resume(runID: run, environment: work.environment)
        #expect(resumed.runs[0].scored == 8)
        #expect(resumed.runs[0].errors == 0)
    }

    @Test func fewShotExamplesComeFromTrainInTheExampleFormat() async throws {
        let work = try StubWorkspace()
        _ = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.strategy = Strategy(shots: 2)
            })
        let prompts = work.completions.compactMap { $0.json?["prompt"]?.stringValue }
        #expect(prompts.count == 8)
        let first = try #require(prompts.first { $0.hasSuffix("Review: \(StubWorkspace.reviews[4].0)\nSentiment:") })
        #expect(first.components(separatedBy: "\nSentiment: ").count == 3, "two examples and the case: \(first)")
        #expect(
            Set(prompts.map { $0.components(separatedBy: "Review: ").dropLast().joined() }).count == 1,
            "the same examples for every case")
        let trainTexts = StubWorkspace.reviews.filter { $0.2 == "train" }.map(\.0)
        #expect(trainTexts.filter { first.contains("Review: \($0)\nSentiment: ") }.count == 2)
        #expect(first.hasSuffix("\n\nReview: \(StubWorkspace.reviews[4].0)\nSentiment:"), "\(first)")
        // Another seed draws another set of examples, so every prompt is new.
        let train = try work.workspace.store.cases(
            evalsetID: try work.workspace.library.evalset(named: "reviews").record.id, split: .train)
        let draws = [0, 99].map {
            FewShot.random(from: train.map(\.evalCase), k: 2, seed: Library.drawSeed(seed: $0, draw: 0))
        }
        #expect(draws[0] != draws[1])
        _ = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.strategy = Strategy(shots: 2)
                $0.seed = 99
            })
        #expect(work.completions.count == 16)
        let reseeded = work.completions.compactMap { $0.json?["prompt"]?.stringValue }.last!
        #expect(
            draws[1].allSatisfy {
                reseeded.contains("Review: \($0.vars["text"]!.text)\nSentiment: \($0.expected.text)")
            })
    }

    @Test func similarExamplesAreTheTrainCasesMostLikeTheCase() async throws {
        let work = try StubWorkspace()
        _ = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.strategy = Strategy(shots: 1, selection: .similar)
                $0.limit = 2
            })
        let prompts = work.completions.compactMap { $0.json?["prompt"]?.stringValue }
        let prompt = { (review: String) in prompts.first { $0.hasSuffix("Review: \(review)\nSentiment:") } }
        // "really good phone" shares only "good" with the train cases; "good food and good staff"
        // says it twice, so BM25 ranks it first. "terrible battery" shares nothing: no example at all.
        #expect(
            prompt("really good phone")
                == "Review: good food and good staff\nSentiment: positive\n\nReview: really good phone\nSentiment:")
        #expect(prompt("terrible battery") == "Review: terrible battery\nSentiment:")
    }

    @Test func similarExamplesNeverRepeatTheCaseItself() async throws {
        // A dev case whose text is also a train case must not be shown as its own example.
        let work = try StubWorkspace(extraFiles: [
            "evalsets/reviews.jsonl": [
                #"{"id": "t1", "vars": {"text": "good value for money"}, "expected": "positive", "split": "train"}"#,
                #"{"id": "t2", "vars": {"text": "good but slow"}, "expected": "negative", "split": "train"}"#,
                #"{"id": "d1", "vars": {"text": "good value for money"}, "expected": "positive", "split": "dev"}"#,
            ].joined(separator: "\n")
        ])
        _ = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.strategy = Strategy(shots: 1, selection: .similar)
            })
        let prompt = try #require(work.completions.first?.json?["prompt"]?.stringValue)
        #expect(prompt == "Review: good but slow\nSentiment: negative\n\nReview: good value for money\nSentiment:")
    }

    @Test func everythingIsCheckedBeforeTheFirstRequest() async throws {
        let work = try StubWorkspace(contextSize: 12)
        await #expect(throws: Refusal.self) { try await work.evaluate(work.options { $0.variants = ["nope"] }) }
        await #expect(throws: Refusal.self) {
            try await work.evaluate(work.options { $0.strategy = Strategy(shots: 9) })
        }
        await #expect(throws: Refusal.self) { try await work.evaluate(work.options { $0.evalset = "missing" }) }
        let tooLong = await #expect(throws: InputError.self) { try await work.evaluate(work.options()) }
        #expect(tooLong?.description.contains("the context holds 12") == true, "\(String(describing: tooLong))")
        #expect(work.completions.isEmpty)
        #expect(try work.workspace.store.runListings(limit: 10).isEmpty, "no run was created")
    }

    @Test func aTemplateVariableTheCasesLackIsABadInput() async throws {
        let work = try StubWorkspace(extraFiles: [
            "templates/other/v.prompt": "Review: {{text}} by {{author}}\n"
        ])
        let error = await #expect(throws: InputError.self) {
            try await work.evaluate(EvalOptions(template: "other").with { $0.evalset = "reviews" })
        }
        #expect(
            error?.description
                == "other/v@1:1: {{author}}: no case of eval set reviews defines it (its cases have: text); rename the variable or add it to the cases.",
            "\(String(describing: error))")
    }

    @Test func logprobLabelsGiveLogLossAndCalibration() async throws {
        let work = try StubWorkspace(
            probabilities: { prompt in
                let good = (prompt.components(separatedBy: "Review:").last ?? "").contains("good")
                return good ? [(" positive", -0.1), (" negative", -2.4)] : [(" negative", -0.3), (" positive", -1.4)]
            },
            settings:
                #"{"scorers": [{"type": "logprob_label", "labels": ["positive", "negative"]}, "label"], "labels": ["positive", "negative"]}"#
        )
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let headline = try #require(report.runs[0].headline)
        #expect(headline.interval.estimate == 1)
        let pPositive = 1 / (1 + exp(-2.3))
        let pNegative = 1 / (1 + exp(-1.1))
        #expect(abs(headline.logLoss! - (-(log(pPositive) + log(pNegative)) / 2)) < 1e-9)
        #expect(abs(headline.calibrationError! - ((1 - pPositive) + (1 - pNegative)) / 2) < 1e-9)
        #expect(work.completions.first?.json?["n_probs"] == 20)
    }

    @Test func aRubricIsGradedByTheSameModel() async throws {
        let work = try StubWorkspace(
            answer: { prompt in prompt.contains("Grade:") ? " 4" : StubWorkspace.keywordAnswer(prompt) },
            settings:
                #"{"scorers": [{"type": "rubric", "rubric": "Names the sentiment in one word."}, {"type": "label", "labels": ["positive", "negative"]}]}"#
        )
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.limit = 3
            })
        #expect(report.runs[0].headline?.interval.estimate == 0.75)
        #expect(work.completions.count == 6, "one answer and one grade per case")
        let again = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.limit = 3
            })
        #expect(again.runs[0].headline?.interval.estimate == 0.75)
        #expect(work.completions.count == 6, "grades are cached too")
        let first = try work.workspace.store.results(runID: report.runs[0].run.id)
        let second = try work.workspace.store.results(runID: again.runs[0].run.id)
        #expect(first.allSatisfy { !$0.cached && $0.responseKey != nil })
        #expect(second.allSatisfy { $0.cached }, "a graded answer from the cache is marked cached")
        #expect(first.map(\.responseKey) == second.map(\.responseKey))
    }

    @Test func examplesCannotComeFromTheSplitBeingScored() async throws {
        let work = try StubWorkspace()
        let error = await #expect(throws: Refusal.self) {
            try await work.evaluate(
                work.options {
                    $0.split = .train
                    $0.strategy = Strategy(shots: 1)
                })
        }
        #expect(error?.description.contains("shots cannot score it") == true)
        #expect(error?.message.parts.contains(.setting("shots")) == true)
    }

    @Test func anExampleFormatVariableTheTrainCasesLackIsCaughtBeforeSending() async throws {
        let work = try StubWorkspace(extraFiles: [
            "templates/sentiment/plain.prompt": """
            ---
            evalset: reviews
            example_format: "Review: {{text}} ({{stars}} stars)\\nSentiment: {{expected}}"
            ---
            {{examples}}
            Review: {{text}}
            Sentiment:
            """
        ])
        let error = await #expect(throws: InputError.self) {
            try await work.evaluate(
                work.options {
                    $0.variants = ["plain"]
                    $0.strategy = Strategy(shots: 1)
                })
        }
        #expect(
            error?.description.contains("sentiment/plain@1 example_format:1: {{stars}}") == true,
            "\(String(describing: error))")
        #expect(work.completions.isEmpty)
    }
}
