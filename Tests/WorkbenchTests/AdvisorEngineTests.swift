import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// The advisor's ladder against a stub model that answers right only when shown examples.
@Suite struct AdvisorEngineTests {
    /// Right when the prompt holds at least one labeled example, else always "positive".
    static let learnsFromExamples: @Sendable (String) -> String = { prompt in
        // A label followed by a line break is an example's answer: the case's own comes last.
        let shown = prompt.contains("positive\n") || prompt.contains("negative\n")
        return shown ? StubWorkspace.keywordAnswer(prompt) : " positive"
    }

    @Test func climbsTheLadderAndRecommendsFewShot() async throws {
        let work = try StubWorkspace(answer: Self.learnsFromExamples)
        let options = AdviceOptions.smallSentiment
        let advice = try await work.workspace.advise(options, environment: work.environment)
        let zeroScores = try #require(advice.zeroShot).variants.map(\.interval.estimate)
        #expect(zeroScores.allSatisfy { $0 == 0.5 }, "without examples the stub says positive to all: \(zeroScores)")
        let fewShot = try #require(advice.fewShot)
        #expect(fewShot.points.map(\.k) == [1, 2, 4], "k up to the 4 train cases")
        #expect(fewShot.points.allSatisfy { $0.randomMean == 1 })
        #expect(fewShot.limitedBy == "the 4 train cases")
        #expect(advice.skipped("Retrieval")?.description.contains("has no {{context}} slot") == true)
        #expect(advice.skipped("Fine-tuning")?.description.hasPrefix("not measured") == true)
        #expect(!advice.rungs.contains { $0.kind == .fineTuned }, "a projection is never a rung")
        // Two labels, four each in the 8 dev cases: the baseline is 0.5, and zero-shot is at it.
        #expect(advice.baseline?.rate == 0.5)
        let decision = try #require(advice.decision)
        #expect(!decision.tests[0].aboveBaseline)
        #expect(advice.recommended?.label == "1-shot random #1", "the cheapest of the rungs at 8/8, all tied best")
        // Its prompt as one file, the example written in where {{examples}} was.
        let file = try #require(advice.recommended?.shipping?.promptFile)
        #expect(!file.contains("{{examples}}") && file.contains("with the 1 example r2 written in"), "\(file)")
        #expect(try PromptFile(parsing: file).body.caseVariables == ["text"])
        #expect(decision.verdict == .undecided, "8 of 8 is not enough to show a score above 0.9")
        #expect(advice.followUp == nil, "every dev case is scored already: nothing to follow up")
        #expect(advice.next.first?.description.hasPrefix("The decision is still open") == true)
        // Runs are ordinary stored runs; the advice is stored and reads back the same.
        let runs = try work.workspace.store.runListings(limit: 100)
        #expect(runs.count == 2 + 3 * 3)
        let id = try #require(advice.id)
        var again = try work.workspace.advice(id: id)
        #expect(again.createdAt != nil)
        again.createdAt = nil
        #expect(again.decision == advice.decision && again.rungs.map(\.label) == advice.rungs.map(\.label))
        #expect(again.rungs.map(\.interval) == advice.rungs.map(\.interval))
        #expect(try work.workspace.advice(id: nil).id == id)
        // Asking again is answered from the cache.
        let before = work.completions.count
        _ = try await work.workspace.advise(options, environment: work.environment)
        #expect(work.completions.count == before)
    }

    /// Half the dev cases to start and thirteen rungs: the decision is open, and at the default
    /// request budget the follow-up scores the contenders on every dev case, however many they are
    /// (a budget of ten requests per added case would not pay for thirteen).
    @Test func atTheDefaultBudgetTheFollowUpPaysForEveryRound() async throws {
        let work = try StubWorkspace(answer: Self.learnsFromExamples)
        var options = AdviceOptions.smallSentiment
        options.budget = 4
        options.draws = 3
        let notes = Mutex<[String]>([])
        let advice = try await work.workspace.advise(
            options, environment: work.environment, notes: { note in notes.withLock { $0.append(note.description) } })
        let followUp = try #require(advice.followUp)
        #expect(advice.rungs.count == 1 + 3 * 4, "zero-shot, then k = 1, 2, 4: three random draws and similar")
        #expect(followUp.requestBudget == advice.rungs.count * (8 - 4), "every rung on every dev case")
        #expect(notes.withLock { $0 }.contains { $0.contains("up to \(followUp.requestBudget) more requests") })
        let round = try #require(followUp.rounds.first)
        // On 4 cases zero-shot (2 of 4) is not shown more than the margin worse than the few-shot
        // rungs (4 of 4): every rung is a contender, and the round is the whole budget.
        #expect(round.cases == 8 && round.contenders.count == 13)
        #expect(round.requests == followUp.requestBudget)
        #expect(followUp.ended.description == "every dev case was scored", "\(followUp.ended)")
        #expect(advice.rungs.allSatisfy { $0.cases == 8 })
    }

    @Test func fewShotRunsAreScoredSideBySideOneRunToASlot() async throws {
        let work = try StubWorkspace(slots: 2, answer: Self.learnsFromExamples)
        let options = AdviceOptions.smallSentiment
        let advice = try await work.workspace.advise(options, environment: work.environment)
        #expect(advice.recommended?.label == "1-shot random #1")
        // The few-shot prompts are those with examples. The first random draws start at once, one
        // in each slot: both slots' first few-shot request asks the first dev case (one run after
        // another, both slots would share the first draw and ask its first two cases).
        let fewShot = work.completions.compactMap { request -> (slot: Int, prompt: String)? in
            guard let prompt = request.json?["prompt"]?.stringValue, let slot = request.json?["id_slot"]?.intValue,
                prompt.contains("positive\n") || prompt.contains("negative\n")
            else { return nil }
            return (slot, prompt)
        }
        // With four train cases, the two 4-shot draws show the same examples in the same order: the
        // same request in two runs scored together is sent once, as the cache would have it one by one.
        #expect(!fewShot.isEmpty)
        #expect(Set(fewShot.map(\.prompt)).count == fewShot.count, "a prompt was sent twice")
        let fourShot = try #require(advice.fewShot?.points.first { $0.k == 4 })
        #expect(fourShot.random.map(\.cachedShare) == [0, 1])
        for slot in [0, 1] {
            let first = try #require(fewShot.first { $0.slot == slot }?.prompt)
            let review = first.components(separatedBy: "Review: ").last ?? ""
            #expect(review.hasPrefix("really good phone\n"), "slot \(slot) began with: \(first)")
        }
        // Each few-shot run is still a batch of its own, as `pwb eval` would make it, and complete;
        // the two zero-shot variants share theirs.
        let runs = try work.workspace.store.runListings(limit: 100)
        #expect(runs.count == 2 + 3 * 3)
        #expect(Set(runs.map(\.run.batch)).count == 1 + 3 * 3)
        #expect(runs.allSatisfy { $0.run.status == .completed && $0.done == 8 })
    }

    /// Without prices, a rung costs its tokens at the speeds the server reported over the whole
    /// ladder, not the time its own requests took. Here the zero-shot requests are reported ten
    /// times slower per token (as if another job had the cores while they ran). Every rung is
    /// right on every case, so the cheapest is chosen: zero-shot, the fewest tokens. Costed by
    /// their own timings, zero-shot would have been the dearest rung and a few-shot rung chosen.
    @Test func rungsAreCostedByTheirTokensNotByHowBusyTheMachineWasWhileTheyRan() async throws {
        let model = StubModel(answer: StubWorkspace.keywordAnswer)
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion", case .json(.object(var answer), _, _) = model.reply(request)
            else { return nil }
            let prompt = request.json?["prompt"]?.stringValue ?? ""
            let slowdown = prompt.contains("positive\n") || prompt.contains("negative\n") ? 1.0 : 10
            let tokens = Double(StubModel.tokens(prompt))
            answer["timings"] = [
                "prompt_n": .number(tokens), "prompt_ms": .number(2 * tokens * slowdown),
                "predicted_n": 1, "predicted_ms": .number(20 * slowdown),
            ]
            return .json(.object(answer))
        })
        let options = AdviceOptions.smallSentiment
        let advice = try await work.workspace.advise(options, environment: work.environment)
        #expect(advice.rungs.allSatisfy { $0.interval.estimate == 1 })
        #expect(advice.recommended?.kind == .zeroShot, "chosen: \(advice.recommended?.label ?? "none")")
        let speeds = try #require(advice.speeds)
        #expect(speeds.reportedByServer)
        for rung in advice.rungs {
            // The prompt tokens the server says it read (`prompt_n`), not all the prompt's.
            let read = try #require(rung.promptTokensRead)
            #expect(read < rung.promptTokens)
            let reckoned = speeds.seconds(promptTokens: read, completionTokens: rung.completionTokens)
            #expect(abs(rung.computeSeconds - reckoned) < 1e-12, "\(rung.label)")
        }
        // The speeds are pooled over every answer: between the fast (2 ms) and the slow (20 ms) per
        // prompt token, and the same for every rung.
        #expect(speeds.secondsPerPromptToken > 0.002 && speeds.secondsPerPromptToken < 0.02)
        let byCost = advice.rungs.sorted { $0.computeSeconds < $1.computeSeconds }.map(\.promptTokens)
        #expect(byCost == byCost.sorted(), "the cheaper rung is the one with fewer tokens")
    }

    @Test func adviceStoredInAnEarlierFormIsRefusedWithASentence() async throws {
        let work = try StubWorkspace()
        let template = try work.workspace.library.template(named: "sentiment")
        let evalset = try work.workspace.library.evalset(named: "reviews")
        let id = try work.workspace.store.insertAdvice(
            templateID: template.id, evalsetID: evalset.record.id, params: [:],
            report: #"{"recommendation": {"rung": "1-shot random", "verdict": "likely"}}"#)
        #expect {
            try work.workspace.advice(id: id)
        } throws: { error in
            "\(error)".contains("stored by an earlier version of pwb")
        }
    }

    @Test func skipsWhatItCannotMeasureAndSaysWhy() async throws {
        let noTrain = try StubWorkspace(extraFiles: [
            "evalsets/reviews.jsonl": #"{"id": "a", "vars": {"text": "good"}, "expected": "positive", "split": "dev"}"#
                + "\n" + #"{"id": "b", "vars": {"text": "bad"}, "expected": "negative", "split": "dev"}"#
        ])
        let advice = try await noTrain.workspace.advise(
            AdviceOptions(template: "sentiment"), environment: noTrain.environment)
        #expect(advice.skipped("Few-shot examples") == "the eval set has no train split to take examples from")
        #expect(advice.skipped("Fine-tuning") == "the eval set has no train split to fine-tune on")
        #expect(advice.recommended?.label.hasPrefix("zero-shot") == true)

        let tiny = try StubWorkspace(contextSize: 16)
        var options = AdviceOptions(template: "sentiment")
        options.budget = 2
        let cramped = try await tiny.workspace.advise(
            options.with { $0.template = "sentiment" }, environment: tiny.environment)
        #expect(
            cramped.skipped("Few-shot examples")?.description.hasPrefix("the context is too small for even one example")
                == true)
    }

    @Test func refusesBadNumbersBeforeAnyRequest() async throws {
        let work = try StubWorkspace()
        for configure in [
            { (o: inout AdviceOptions) in o.target = 1.5 }, { $0.target = -0.1 }, { $0.volumePerMonth = -1 },
            { $0.prices = Prices(inputPerMillion: -1, outputPerMillion: 0) }, { $0.fineTuneCostUSD = -5 },
        ] {
            var options = AdviceOptions(template: "sentiment")
            configure(&options)
            await #expect(throws: Refusal.self) {
                try await work.workspace.advise(options, environment: work.environment)
            }
        }
        #expect(work.completions.isEmpty)
    }
}

extension AdviceOptions {
    func with(_ configure: (inout AdviceOptions) -> Void) -> AdviceOptions {
        var copy = self
        configure(&copy)
        return copy
    }
}

/// BM25 retrieval over a small corpus, English and Japanese.
@Suite struct RetrievalTests {
    @Test func ranksThePassageThatAnswersFirst() throws {
        let folder = NSTemporaryDirectory() + "pwb-retrieval-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents: [String: String] = [
            "leave.md":
                "# Leave\n\nEmployees receive 27 days of paid leave each year.\n\n## Sick leave\nCall the duty manager before 09:30.",
            "security.md":
                "# Security\n\nThe security desk is staffed by Ines Varga. Badges are collected at the desk.",
            "配送.md": "# 配送について\n\n通常の配送は注文から三日以内にお届けします。\n\n## 送料\n五千円以上のご注文は送料無料です。",
            "返品.md": "# 返品について\n\n商品到着後十四日以内であれば返品を受け付けます。",
        ]
        for (name, text) in documents {
            let url = URL(fileURLWithPath: folder + "/docs/" + name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let workspace = try Workspace(root: folder)
        let added = try workspace.addToCorpus("kb", paths: ["docs"])
        #expect(added.sources == 4)
        let corpus = try workspace.library.corpus(named: "kb")
        let top = { (query: String) throws -> String? in
            try workspace.library.searchPassages(corpus: corpus, query: query, limit: 3).first?.document.passage.body
        }
        #expect(try top("Who staffs the security desk?")?.contains("Ines Varga") == true)
        #expect(try top("How many days of paid leave do employees get?")?.contains("27 days") == true)
        #expect(try top("When must I call if I am sick?")?.contains("09:30") == true)
        #expect(try top("送料は無料になりますか")?.contains("送料無料") == true)
        #expect(try top("返品は何日以内なら受け付けてもらえますか")?.contains("十四日以内") == true)
        #expect(try top("配送にはどのくらいかかりますか")?.contains("三日以内") == true)
        #expect(try workspace.library.searchPassages(corpus: corpus, query: "a of", limit: 3).isEmpty)
        // Adding the same files again changes nothing.
        #expect(try workspace.addToCorpus("kb", paths: ["docs"]).added == 0)
        #expect(throws: InputError.self) { try workspace.addToCorpus("empty", paths: ["nowhere"]) }
    }

    @Test func queriesUseWordsAndBigramsOfSpacelessText() {
        #expect(SearchQuery.terms("How many days of paid leave?") == ["days", "paid", "leave"])
        #expect(SearchQuery.terms("送料は無料、送料") == ["送料", "料は", "は無", "無料"])
        #expect(SearchText.indexable("Ｔｉｄｅ Table 配送料") == "tide table 配送 送料")
        #expect(SearchQuery.match("it's \"quoted\"") == "\"quoted\"")
        #expect(SearchQuery.match("a an of") == nil)
    }
}

/// Fine-tuning data from the train split.
@Suite struct FineTuningExportTests {
    @Test func chatDataHasOneSystemTurnAndThePromptWithoutExamples() async throws {
        let work = try StubWorkspace(extraFiles: [
            "templates/sentiment/chatty.prompt": """
            ---
            evalset: reviews
            mode: chat
            system: You label reviews.
            ---
            {{examples}}
            Review: {{text}}
            """
        ])
        let evalset = try work.workspace.library.evalset(named: "reviews")
        let revision = try work.workspace.fineTuningRevision(evalset: evalset, reference: "sentiment/chatty")
        let train = try work.workspace.store.cases(evalsetID: evalset.record.id, split: .train)
        let lines = try work.workspace.fineTuningChat(train, revision: revision).split(separator: "\n")
        #expect(lines.count == 4)
        let first = try JSONValue(parsing: String(lines[0]))
        #expect(
            first == [
                "messages": [
                    ["role": "system", "content": "You label reviews."],
                    ["role": "user", "content": "Review: good food and good staff"],
                    ["role": "assistant", "content": "positive"],
                ]
            ])
        let text = try work.workspace.fineTuningText(
            train, revision: try work.workspace.fineTuningRevision(evalset: evalset, reference: "sentiment/plain"))
        #expect(text.hasPrefix("Review: good food and good staff\nSentiment: positive\n\nReview: awful and slow\n"))
    }
}

extension AdviceOptions {
    /// The stub's sentiment ladder on its 8 dev cases, two random draws per k.
    static var smallSentiment: AdviceOptions {
        var options = AdviceOptions(template: "sentiment")
        options.budget = 8
        options.draws = 2
        return options
    }
}
