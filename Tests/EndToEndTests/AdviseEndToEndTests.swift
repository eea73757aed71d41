import Foundation
import StubRuntime
import Testing

/// `pwb advise`, `pwb export-finetune` and `pwb corpus search` as a user runs them.
@Suite(.serialized)
struct AdviseEndToEndTests {
    @Test(arguments: [
        (["advise", "sentiment", "--target", "1.5"], "--target must be between 0 and 1"),
        (["advise", "sentiment", "--volume", "-10"], "--volume must be 0 or more"),
        (["advise", "sentiment", "--price-in", "-0.1"], "--price-in must be 0 or more"),
        (["advise", "sentiment", "--finetune-cost", "-3"], "--finetune-cost must be 0 or more"),
        (["advise", "sentiment", "--budget", "0"], "--budget must be at least 1"),
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

/// The advisor with the real llama-server and model, on a small budget.
@Suite(.serialized)
struct RealAdviseEndToEndTests {
    @Test func advisesOnTheShippedClassifierAndShowsTheAdviceAgain() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let advice = try await work.pwb(
            "advise", "sentiment", "--budget", "8", "--max-shots", "2", "--draws", "1", "--volume", "10000",
            "--price-in", "0.10", "--price-out", "0.40")
        #expect(advice.status == 0, "\(advice)")
        let out = advice.stdout
        #expect(
            out.range(
                of:
                    #"^Advice #1 for sentiment on sentiment \(dev\) · model local \(llama\.cpp:gemma-3-270m-q4_k_m\.gguf#[0-9a-f]{16}\)\n"#,
                options: .regularExpression) != nil,
            "\(out)")
        #expect(out.contains("8 of 80 dev cases per rung: intervals about 3.16× wider than with all of them."))
        #expect(out.contains("1. Zero-shot, every variant"))
        #expect(out.contains("learning curve (random means):"))
        #expect(out.contains("3. Retrieval\n   skipped: sentiment/"))
        #expect(out.contains("4. Fine-tuning\n   projected from the learning curve and the 80 train cases"))
        #expect(out.contains("\nRecommendation: "))
        #expect(out.contains("  The gap: zero-shot scores "))
        #expect(out.contains("FIRST YEAR"))
        let shown = try await work.pwb("advise", "--show", "1")
        #expect(shown.stdout == out, "the stored advice prints the same")
        let page = try await work.pwb("report", "--advice", "latest")
        #expect(page.status == 0, "\(page)")
        #expect(page.stdout.contains("<h1>Advice #1 for sentiment on sentiment (dev)</h1>"))
        #expect(page.stdout.components(separatedBy: "<figure>").count == 4, "ladder, cost against quality, curve")
        #expect(page.stdout.contains("<pre>" + out.replacingOccurrences(of: "<", with: "&lt;").prefix(40)))
        let runs = try await work.pwb("runs", "list", "--json")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(listed.count == 3 + 2 * 2, "three variants zero-shot, then k = 1, 2 random and similar")
    }
}
