import Foundation
import Testing
import WorkbenchStore

@testable import Workbench
@testable import WorkbenchCLI
@testable import WorkbenchCore

/// The runs page's case matrix, paired pictures and what-was-run, without a store: reports and
/// matrices are made here by hand.
struct CaseMatrixReportTests {
    /// Outputs a model might give that would break a page built carelessly.
    static let hostile = [
        "</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<!-- open comment",
        "\"quoted\" and 'single'", "bell\u{07} nul\u{00} esc\u{1B}", "line\u{2028}separator\u{2029}end",
        "& ampersand &amp; </SCRIPT >",
    ]

    static func report(passFail: [[Double]], names: [String] = ["a", "b"]) -> EvalReport {
        let runs = passFail.enumerated().map { index, scores in
            var params = RunParameters()
            params.seed = 7
            params.modelName = "m"
            let plan: [Int] = Array(scores.indices)
            let record = RunRecord(
                id: index + 1, batch: "b", templateID: 1, revisionID: index + 1, evalsetID: 1, split: .dev,
                provider: "llama.cpp", model: "llama.cpp:m.gguf", params: params, strategy: Strategy.zeroShot,
                plan: plan, status: .completed, summary: nil, createdAt: "", finishedAt: nil)
            let mean = scores.reduce(0, +) / Double(scores.count)
            return RunReport(
                run: record, reference: "t/\(names[index])@1", variant: names[index], modelName: "m",
                strategy: .zeroShot,
                scorers: [
                    ScorerSummary(
                        name: "exact", isPassFail: true, count: scores.count,
                        interval: Interval(estimate: mean, lower: mean, upper: mean))
                ], planned: scores.count, scored: scores.count, errors: 0, cachedShare: 0.5, computeSeconds: 1,
                perCase: Dictionary(uniqueKeysWithValues: scores.enumerated().map { ($0.offset, $0.element) }),
                isPassFail: true)
        }
        var comparisons: [(other: Int, comparison: Comparison)] = []
        for other in runs.indices.dropFirst() {
            comparisons.append((other, Comparisons.paired(runs[0].perCase, runs[other].perCase, passFail: true)))
        }
        return EvalReport(
            batch: "b", evalset: "e", split: "dev", runs: runs, best: 0, comparisons: comparisons)
    }

    @Test func embeddedJSONCannotCloseTheScriptAndReadsBackTheSame() throws {
        let value = JSONValue.array(Self.hostile.map { .string($0) })
        let embedded = HTMLReport.scriptJSON(value)
        #expect(!embedded.contains("<") && !embedded.contains(">") && !embedded.contains("&"))
        #expect(!embedded.unicodeScalars.contains { $0 == "\u{2028}" || $0 == "\u{2029}" || $0.value < 0x20 })
        #expect(try JSONValue(parsing: embedded) == value, "the escapes are plain JSON")
    }

    @Test func pageKeepsModelTextOutOfTheMarkup() throws {
        let report = Self.report(passFail: [[1, 0, 1], [0, 0, 1]])
        let matrix = CaseMatrix(
            rows: Self.hostile.prefix(3).enumerated().map { index, text in
                CaseMatrix.Row(
                    id: "c<\(index)>", input: text, expected: .string(text),
                    cells: [
                        .init(output: text, score: 1, error: nil), .init(output: nil, score: nil, error: text),
                    ])
            })
        let page = HTMLReport.runs(report, matrix: matrix, details: [])
        // Two scripts (the code and the data), each closed once; no model text made an element.
        #expect(page.components(separatedBy: "</script>").count == 3)
        #expect(page.components(separatedBy: "<script").count == 3)
        #expect(!page.contains("<img") && !page.contains("<!--"))
        #expect(page.contains("<th>c&lt;0&gt;</th>") == false, "case ids are data, not headers")
        // The policy forbids every load and names the one script by its hash.
        var hash = SHA256()
        hash.update(HTMLReport.caseScript)
        let digest = Data(hash.finalize()).base64EncodedString()
        #expect(page.contains("default-src 'none'"))
        #expect(page.contains("script-src 'sha256-\(digest)'"))
        #expect(page.contains("<script>\(HTMLReport.caseScript)</script>"), "the hashed text is the text on the page")
        #expect(!page.contains("http://") && !page.contains("https://"))
    }

    @Test func pairedPictureCountsEachCellOfTheTable() {
        // Best a: [1,1,1,0,0,1], other b: [1,0,0,1,0,1] → both 2, only a 2, only b 1, neither 1.
        let report = Self.report(passFail: [[1, 1, 1, 0, 0, 1], [1, 0, 0, 1, 0, 1]])
        let html = HTMLReport.pairedPictures(report)
        #expect(html.contains("<td class=\"same\">2<small>both right</small>"))
        #expect(html.contains("<td class=\"win\">2<small>only a</small>"))
        #expect(html.contains("<td class=\"loss\">1<small>only b</small>"))
        #expect(html.contains("<td class=\"same\">1<small>neither</small>"))
        #expect(html.contains("they disagree on 3 (2 only a right, 1 only b right)"))
        // Exact McNemar on 2 against 1 discordant pairs: p = 1 (scipy.stats.binomtest(1, 3).pvalue).
        #expect(html.contains("exact McNemar p=1.000: not a significant difference"))
    }

    @Test func heatMapShadesByTheShareOfTheRow() throws {
        let summary = ScorerSummary(
            name: "label", isPassFail: true, count: 10, interval: Interval(estimate: 0.7, lower: 0.4, upper: 0.9),
            confusion: [[3, 1, 0], [2, 4, 0]], labels: ["正", "<neg>"])
        let html = try #require(HTMLReport.confusionHeatMap(summary, title: "t"))
        // Row 正 has 4 cases: 3 right (75% → alpha 0.675), 1 as <neg> (25% → 0.225).
        #expect(html.contains("background:rgba(21,128,61,0.7)\" title=\"75% of 正\">3</td>"))
        #expect(html.contains("background:rgba(220,38,38,0.2)\" title=\"25% of 正\">1</td>"))
        #expect(html.contains("<th>&lt;neg&gt;</th>"))
    }

    @Test func inputIsTheInputVariableTheOnlyOneOrAllOfThem() {
        #expect(CaseMatrix.input(of: ["input": "問い合わせ", "other": "x"]) == "問い合わせ")
        #expect(CaseMatrix.input(of: ["text": "only"]) == "only")
        #expect(CaseMatrix.input(of: ["b": "2", "a": 1]) == "a: 1\nb: 2")
        #expect(CaseMatrix.input(of: ["question": "何時?", "context": "x"], inputVariable: "question") == "何時?")
    }

    @Test func whatWasRunShowsSamplingThePromptAndTheDiff() {
        let report = Self.report(passFail: [[1], [0]])
        let request: JSONValue = [
            "prompt": "Review: <b>good</b>\nSentiment:", "temperature": 0, "max_tokens": 3, "stop": ["\n"],
            "seed": 7, "top_logprobs": 0,
        ]
        let details = [
            RunDetails(
                runID: 1, provider: "llama.cpp", source: "---\nmax_tokens: 3\n---\nReview: {{text}}\nSentiment:",
                shownCase: "c1", request: request, errors: []),
            RunDetails(
                runID: 2, provider: "llama.cpp", source: "---\nmax_tokens: 3\n---\nReview: {{text}}\nOpinion:",
                shownCase: "c1", request: request, errors: [("timed out after 60 s", 2)]),
        ]
        let html = HTMLReport.whatWasRun(report, details: details)
        #expect(html.contains("<td>temperature 0 · max_tokens 3 · stop &quot;\\n&quot;</td>"))
        #expect(html.contains("<pre class=\"prompt\">Review: &lt;b&gt;good&lt;/b&gt;\nSentiment:</pre>"))
        #expect(html.contains("<del>- Sentiment:</del><ins>+ Opinion:</ins>"))
        #expect(html.contains("+1 −1 lines"))
        #expect(html.contains("<li>2 × timed out after 60 s</li>"))
        #expect(html.contains("<td>llama.cpp:m.gguf</td>") && html.contains("<td>50%</td>"))
    }

    /// The page for 5,000 cases × 3 runs, English and Japanese inputs of review length: its size
    /// is what the README states.
    @Test func aLargeReportStaysUnderItsStatedSize() {
        let report = Self.report(passFail: [[1], [0], [1]], names: ["a", "b", "c"])
        let english =
            "The cast-iron pan was a little heavy at first, but now I use it every single day. Sears steak beautifully."
        let japanese = "注文した商品がまだ届いていません。配送状況を確認していただけますか。到着予定日も教えてください。"
        let matrix = CaseMatrix(
            rows: (0..<5000).map { (index: Int) -> CaseMatrix.Row in
                let cells: [CaseMatrix.Cell?] = (0..<3).map { (run: Int) -> CaseMatrix.Cell? in
                    let output = (index + run) % 3 == 0 ? " negative" : " positive"
                    return CaseMatrix.Cell(output: output, score: Double((index + run) % 2), error: nil)
                }
                let input = index % 2 == 0 ? english : japanese
                return CaseMatrix.Row(
                    id: "case-\(index)", input: input, expected: .string("positive"), cells: cells)
            })
        let page = HTMLReport.runs(report, matrix: matrix, details: [])
        let megabytes = Double(page.utf8.count) / 1_000_000
        #expect(megabytes < 1.2, "README states 1.1 MB; this page is \(megabytes) MB")
        #expect(megabytes > 1.0)
    }

    @Test func runawayOutputsAreCutInThePageOnly() {
        let long = String(repeating: "長い", count: 6_000)
        let cut = HTMLReport.cut(long)
        #expect(cut.hasPrefix(String(long.prefix(10_000))))
        #expect(cut.hasSuffix(" … [2000 more characters are in the store: pwb runs show RUN --json]"))
        #expect(HTMLReport.cut("short") == "short")
    }

    @Test func scoresThatAreNotPassFailAreCountedHigherEqualLower() {
        var report = Self.report(passFail: [[0.9, 0.5, 0.2, 0.7], [0.4, 0.5, 0.6, 0.1]])
        for index in report.runs.indices {
            report.runs[index].isPassFail = false
            report.runs[index].scorers[0].isPassFail = false
        }
        report.comparisons = [(1, Comparisons.paired(report.runs[0].perCase, report.runs[1].perCase, passFail: false))]
        let html = HTMLReport.pairedPictures(report)
        #expect(html.contains("<tr><th>a higher</th><th>equal</th><th>b higher</th></tr>"))
        #expect(html.contains("<td class=\"win\">2</td><td class=\"same\">1</td><td class=\"loss\">1</td>"))
        #expect(html.contains("the difference&#39;s 95% interval is [") && html.contains("sign-flip permutation p="))
        #expect(html.contains("<a href=\"#filter=disagree&amp;pair=0,1\">"))
    }
}
