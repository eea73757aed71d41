import Foundation
import StubRuntime
import Testing

/// `pwb advise`, `pwb export-finetune` and `pwb corpus search` as a user runs them.
@Suite(.serialized)
struct AdviseEndToEndTests {
    @Test(arguments: [
        (["advise", "sentiment", "--target", "1.5"], "--target must be between 0 and 1"),
        (["advise", "sentiment", "--volume", "-10"], "--volume must be between 0 and 1000000000000, not -10"),
        (["advise", "sentiment", "--price-in", "-0.1"], "--price-in must be between 0 and 1000000, not -0.1"),
        (["advise", "sentiment", "--finetune-cost", "-3"], "--finetune-cost must be between 0 and 1000000000, not -3"),
        (["advise", "sentiment", "--budget", "0"], "--budget must be between 1 and 10000000, not 0"),
        (["advise", "--show", "77"], "there is no advice 77"),
        (["advise"], "advise needs a TEMPLATE"),
    ])
    func badAdviceRequestsExitWith2BeforeAnyRequest(arguments: [String], message: String) async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        let stub = try StubServer(model: StubModel { _ in " positive" })
        let result = try await PwbProcess.run(
            arguments, in: work.path, environment: ["PWB_ENDPOINT": stub.url.absoluteString])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(stub.requests(to: "/completion").isEmpty)
    }

    @Test func exportsTrainingDataAndRefusesTheEvaluationSplits() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        let chat = try await work.pwb(
            "export-finetune", "sentiment", "--format", "openai-chat", "--template", "sentiment/instruction")
        #expect(chat.status == 0, "\(chat)")
        let lines = chat.stdout.split(separator: "\n")
        #expect(lines.count == 80)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let messages = try #require(first["messages"] as? [[String: String]])
        #expect(messages.map { $0["role"] } == ["user", "assistant"])
        #expect(
            messages[0]["content"]?.hasPrefix(
                "Classify the sentiment of the review as positive or negative.\n\nReview: ") == true)
        #expect(["positive", "negative"].contains(messages[1]["content"] ?? ""))

        let text = try await work.pwb(
            "export-finetune", "ja-inquiry", "--format", "text", "--template", "ja-inquiry/instruction", "--out",
            "ja.txt")
        #expect(text.status == 0, "\(text)")
        #expect(text.stderr.contains("wrote 64 train cases of ja-inquiry to ja.txt"))
        let written = try work.read("ja.txt")
        #expect(written.components(separatedBy: "\n分類: ").count == 65)

        let refused = try await work.pwb("export-finetune", "sentiment", "--format", "openai-chat", "--split", "dev")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("would train the model on cases it is scored on"))
        let allowed = try await work.pwb(
            "export-finetune", "sentiment", "--format", "openai-chat", "--split", "dev", "--allow-eval-splits")
        #expect(allowed.stdout.split(separator: "\n").count == 80)
        let noFormat = try await work.pwb(
            "export-finetune", "extract-order", "--format", "text", "--template", "sentiment/question")
        #expect(noFormat.status == 4, "\(noFormat)")
    }

    @Test func corpusSearchShowsWhatRetrievalFinds() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        let hits = try await work.pwb("corpus", "search", "harbor-handbook", "Who staffs the security desk?", "--json")
        let passages = try #require(try JSONSerialization.jsonObject(with: Data(hits.stdout.utf8)) as? [[String: Any]])
        #expect((passages.first?["source"] as? String)?.hasSuffix("07-security.md") == true, "\(hits)")
        #expect((passages.first?["text"] as? String)?.contains("Ines Varga") == true)
        let table = try await work.pwb("corpus", "search", "harbor-handbook", "paid leave days")
        #expect(table.stdout.contains("03-leave.md"), "\(table)")
        let added = try await work.pwb("corpus", "add", "notes", "corpora/harbor-handbook/01-company.md")
        #expect(added.stdout.hasPrefix("corpus notes: 1 documents"), "\(added)")
        let empty = try await work.pwb("corpus", "add", "nothing", "templates")
        #expect(empty.status == 4)
        #expect(empty.stderr.contains("has no .md, .txt or .jsonl documents"))
    }
}

/// The advisor with the real llama-server and model, on small budgets, against the shipped tasks'
/// known answers: examples are what the base model needs for sentiment, the handbook's answers
/// are in its corpus, and extracting orders as JSON is beyond it.
@Suite(.serialized)
struct RealAdviseEndToEndTests {
    /// The advice as JSON: the chosen rung's label and the verdict.
    static func decision(_ json: String) throws -> (rung: String, verdict: String) {
        let advice = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let decision = try #require(advice["decision"] as? [String: Any])
        let rungs = try #require(advice["rungs"] as? [[String: Any]])
        let chosen = try #require(decision["chosen"] as? Int)
        return (try #require(rungs[chosen]["label"] as? String), try #require(decision["verdict"] as? String))
    }

    @Test func sentimentNeedsExamples() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let advice = try await work.pwb(
            "advise", "sentiment", "--budget", "20", "--max-shots", "2", "--draws", "1", "--volume", "10000",
            "--price-in", "0.10", "--price-out", "0.40")
        #expect(advice.status == 0, "\(advice)")
        let out = advice.stdout
        #expect(
            out.range(
                of:
                    #"^Advice #1 for sentiment on sentiment \(dev\) · model local \(llama\.cpp:gemma-3-270m-q4_k_m\.gguf#[0-9a-f]{16}\) · reader generate\n"#,
                options: .regularExpression) != nil,
            "\(out)")
        #expect(
            out.contains("20 of 80 dev cases per rung to start: intervals about 2.00× wider than with all of them."))
        #expect(out.contains("Baseline: chance with 2 labels 0.500;"))
        #expect(out.contains("3. Retrieval\n   skipped: sentiment/"))
        #expect(out.contains("4. Fine-tuning\n   skipped: not measured"))
        #expect(out.contains("Read its answers as they were measured: send the prompt as it is"))
        #expect(out.contains("Scenario, not measured: the few-shot learning curve"))
        #expect(out.contains("FIRST YEAR") && out.contains("VS TARGET"))
        #expect(out.contains("\nThe rule: Every rung is tested against the target"))
        let json = try await work.pwb("advise", "--show", "1", "--json")
        let decision = try Self.decision(json.stdout)
        #expect(decision.rung.contains("-shot"), "a few-shot rung: \(out)")
        #expect(out.contains("\nRecommendation: \(decision.rung) — "))
        let shown = try await work.pwb("advise", "--show", "1")
        #expect(shown.stdout == out, "the stored advice prints the same")
        let page = try await work.pwb("report", "--advice", "latest")
        #expect(page.status == 0, "\(page)")
        #expect(page.stdout.contains("<h1>Advice #1 for sentiment on sentiment (dev)</h1>"))
        #expect(page.stdout.components(separatedBy: "<figure>").count == 4, "ladder, cost against quality, curve")
        let runs = try await work.pwb("runs", "list", "--json")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(
            listed.count >= 3 + 2 * 2, "three variants zero-shot, then k = 1, 2 random and similar (and follow-up runs)"
        )

        // The recommended prompt, written out with its examples, imported as a variant and scored
        // again: the advised score, the same prompts answered from the cache.
        let stored = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rungs = try #require(stored["rungs"] as? [[String: Any]])
        let chosen = rungs[try #require((stored["decision"] as? [String: Any])?["chosen"] as? Int)]
        let exported = try await work.pwb("advise", "--show", "1", "--export", "shipped")
        guard decision.rung.contains("random") else {
            #expect(exported.status == 2 && exported.stderr.contains("which is not one prompt to write"), "\(exported)")
            return
        }
        #expect(exported.status == 0, "\(exported)")
        #expect(exported.stderr.contains("wrote shipped/sentiment/instruction-advice-1.prompt"), "\(exported)")
        let imported = try await work.pwb("import", "shipped")
        #expect(imported.status == 0, "\(imported)")
        let cases = try #require(chosen["cases"] as? Int)
        let score = try #require((chosen["interval"] as? [String: Any])?["estimate"] as? Double)
        let again = try await work.pwb(
            "eval", "sentiment", "--variants", "instruction-advice-1", "--limit", String(cases), "--json")
        #expect(again.status == 0, "\(again)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let run = try #require((report["runs"] as? [[String: Any]])?.first)
        #expect((run["scorers"] as? [[String: Any]])?.first?["score"] as? Double == score, "\(again.stdout)")
        #expect(run["cached_share"] as? Double == 1, "the very prompts the advice scored")
    }

    @Test func theHandbookNeedsRetrievalAndOrdersAreBeyondTheModel() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let handbook = try await work.pwb(
            "advise", "handbook-qa", "--budget", "24", "--max-shots", "1", "--draws", "1", "--json")
        #expect(handbook.status == 0, "\(handbook)")
        let retrieval = try Self.decision(handbook.stdout)
        #expect(retrieval.rung.hasPrefix("retrieval"), "\(handbook.stdout)")
        #expect(retrieval.verdict != "meets")

        let orders = try await work.pwb("advise", "extract-order", "--budget", "16", "--max-shots", "1", "--draws", "1")
        #expect(orders.status == 0, "\(orders)")
        let text = orders.stdout
        #expect(!text.contains(" — meets the target"), "\(text)")
        #expect(text.contains("\nNext:\n  "), "what would change the answer: \(text)")
        #expect(text.contains("Fine-tuning was not measured"))
    }
}
