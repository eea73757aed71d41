import Foundation
import Testing
import WorkbenchCore

@testable import WorkbenchCLI

/// A small stored-looking advice: zero-shot at 16/40, a 4-shot random draw at 34/40, against a
/// target of 0.8.
enum SampleAdvice {
    static func passes(_ passed: Int, of cases: Int = 40) -> [Int: Double] {
        Dictionary(uniqueKeysWithValues: (0..<cases).map { ($0, $0 < passed ? 1.0 : 0.0) })
    }

    static func summary(_ run: Int, _ variant: String, _ strategy: String, _ passed: Int) -> RunSummary {
        RunSummary(
            run: run, variant: variant, strategy: strategy,
            interval: Statistics.wilson(successes: passed, trials: 40), cases: 40, errors: 0, promptTokens: 40,
            latencyP50Milliseconds: 20, cachedShare: 0)
    }

    static var advice: Advice {
        let cost = CostModel(prices: Prices(inputPerMillion: 2.5, outputPerMillion: 10), volumePerMonth: nil)
        var four = Rung(
            kind: .fewShot(k: 4, selection: .random), label: "4-shot random #1",
            outcomes: Outcomes(passes(34), passFail: true), promptTokens: 160, completionTokens: 0,
            computeSeconds: 0.3, labeledExamples: 4)
        four.shipping = Shipping(
            description:
                "ja-inquiry/instruction@1 with the 4 train examples ja-002, ja-003, ja-010, ja-031 before every input",
            promptFile: "---\nevalset: ja-inquiry\n---\n問い合わせ: …\n", revision: "ja-inquiry/instruction@1")
        let rungs = [
            Rung(
                kind: .zeroShot, label: "zero-shot (instruction)", outcomes: Outcomes(passes(16), passFail: true),
                promptTokens: 40, completionTokens: 0, computeSeconds: 0.1),
            four,
        ]
        let points = [1, 2, 4, 8].map { k in
            Advice.FewShotPoint(
                k: k, random: [summary(k, "instruction", "\(k)-shot random", 20 + k)],
                similar: summary(100 + k, "instruction", "\(k)-shot similar", 22 + k))
        }
        let rule = DecisionRule(target: 0.8, cost: cost, baseline: 0.3, looks: 2)
        var advice = Advice(
            template: "ja-inquiry", evalset: "ja-inquiry", model: "local", devCases: 64, casesPerRung: 40,
            trainCases: 64, target: 0.8, margin: rule.margin, value: nil, volumePerMonth: nil, prices: cost.prices,
            fineTuneCostUSD: nil,
            baseline: Advice.Baseline(labels: 4, chance: 0.25, majorityLabel: "配送", majority: 0.3),
            steps: [
                .zeroShot(
                    Advice.ZeroShot(
                        variants: [summary(1, "instruction", "zero-shot", 16)], best: "instruction", comparisons: [])),
                .fewShot(
                    Advice.FewShot(
                        variant: "ja-inquiry/instruction@1", draws: 1, maxShots: 8, limitedBy: "--max-shots 8",
                        points: points)),
                .skipped(
                    Advice.Skipped(title: "Retrieval", reason: "ja-inquiry/instruction@1 has no {{context}} slot")),
                .skipped(
                    Advice.Skipped(
                        title: "Fine-tuning",
                        reason: "not measured: serve a model tuned on the train split and pass --finetuned-model NAME")),
            ],
            projection: nil, rungs: rungs, decision: rule.decide(rungs), rule: rule.statement, elapsedSeconds: 75)
        advice.id = 3
        advice.reader = .generate
        return advice
    }
}

struct AdviceRenderingTests {
    @Test func theTerminalReportStatesTheVerdictTheTestsAndTheRule() throws {
        let advice = SampleAdvice.advice
        let text = AdviceRendering.lines(advice).joined(separator: "\n")
        #expect(text.contains("Advice #3 for ja-inquiry on ja-inquiry (dev) · model local"))
        #expect(text.contains("Baseline: chance with 4 labels 0.250; always \"配送\" 0.300."))
        // 34/40 against 0.8: not enough to show it either way.
        #expect(text.contains("Recommendation: 4-shot random #1 — undecided"))
        #expect(text.contains("not shown, adj. p="))
        #expect(text.contains("The rule: Every rung is tested against the target"))
        #expect(text.contains("3. Retrieval\n   skipped: ja-inquiry/instruction@1 has no {{context}} slot."))
        #expect(text.contains("What to ship: ja-inquiry/instruction@1 with the 4 train examples ja-002"))
        #expect(text.contains("Read its answers as they were measured: send the prompt as it is"))
        #expect(text.contains("pwb advise --show 3 --export DIR"))
        #expect(text.contains("Measured in 75.0 s. pwb advise --show 3 prints this again."))
    }

    @Test func aProjectionIsAScenarioWithItsCheckNeverARung() throws {
        var advice = SampleAdvice.advice
        let truth = { (k: Int) in 0.9 - 0.5 * pow(Double(k + 1), -0.8) }
        let series = [0, 1, 2, 4, 8].map { k in (k, SampleAdvice.passes(Int((truth(k) * 400).rounded()), of: 400)) }
        advice.projection = Projection.project(series, target: 0.8, trainSize: 64, seed: 1)
        let text = AdviceRendering.lines(advice).joined(separator: "\n")
        #expect(text.contains("Scenario, not measured: the few-shot learning curve"))
        #expect(text.contains("checked: fitted up to k = 4, it predicted"))
        #expect(text.contains("it may be read up to k ≈ 15"))
        #expect(text.contains("no scenario for fine-tuning: the curve is checked up to about k = 15"))
        #expect(!text.contains("fine-tuned (projected)"))
    }

    /// A curve measured at one k only: the advisor says why it is not to be believed and which
    /// setting measures more.
    static let tooFewPoints = Projection.project([(0, SampleAdvice.passes(20))], target: 0.8, trainSize: 64)

    @Test func theREPLWordsTheAdvisorsSettingByItsName() throws {
        let distrust = try #require(Self.tooFewPoints.distrust)
        let worded = REPL.worded(distrust)
        #expect(!worded.contains("--"))
        #expect(worded.hasSuffix("(a larger max-shots measures more)"))
        let lines = AdviceRendering.scenario(Self.tooFewPoints, advice: SampleAdvice.advice, wording: REPL.worded)
        #expect(lines == ["no curve: \(worded)."])
    }

    @Test func theCommandLineWordsTheSameMessageAsBefore() throws {
        let distrust = try #require(Self.tooFewPoints.distrust)
        let expected =
            "a curve needs scores at \(LearningCurve.minimumPoints) or more different k, and 1 were measured (a larger --max-shots measures more)"
        #expect(CLI.worded(distrust) == expected)
        // Stored advice keeps the command line's wording, as it always has.
        let stored = String(decoding: try JSONEncoder().encode(Self.tooFewPoints), as: UTF8.self)
        #expect(stored.contains(#""distrust":"\#(expected)""#))
    }
}

struct HTMLReportTests {
    @Test func escapesMarkupAndKeepsJapanese() {
        #expect(
            HTMLReport.escape(#"<script>alert("x&y")</script> '分類'"#)
                == "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; &#39;分類&#39;")
    }

    @Test func drawsAPointPerRowAndAnIntervalWhereThereIsOne() {
        let rows = [
            Chart.Row(label: "問い合わせ <b>", score: 0.5, low: 0.25, high: 0.75),
            Chart.Row(label: "fine-tuned (projected)", score: 0.9, low: 0.9, high: 0.9, projected: true),
        ]
        let svg = Chart.intervals(rows, target: 0.8, caption: "scores")
        #expect(svg.components(separatedBy: "<circle class=\"point\"").count == 3)
        #expect(svg.components(separatedBy: "<line class=\"whisker\"").count == 2, "no bar for a projection")
        #expect(svg.contains(">問い合わせ &lt;b&gt;</text>"))
        #expect(svg.contains("<g class=\"projected\">"))
        // The plot runs from the label column to 60 px short of the 760 px width: 0.5 is its middle,
        // the bar spans the middle half, and the target stands at 80%.
        let left = max(90, Double(DisplayWidth.of("fine-tuned (projected)")) * 7.2 + 20)
        let x = { (score: Double) in String(format: "%.1f", left + score * (700 - left)) }
        #expect(svg.contains("cx=\"\(x(0.5))\""))
        #expect(svg.contains("x1=\"\(x(0.25))\" y1=\"35.0\" x2=\"\(x(0.75))\" y2=\"35.0\""))
        #expect(svg.contains("<line class=\"target\" x1=\"\(x(0.8))\""))
    }

    @Test func pageForAdviceHasTheRecommendationTheLadderAndTheCurve() {
        var advice = SampleAdvice.advice
        advice.createdAt = "2026-12-01 10:00:00"
        let page = HTMLReport.advice(advice)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<h1>Advice #3 for ja-inquiry on ja-inquiry (dev)</h1>"))
        #expect(page.contains("<h2>Recommendation: 4-shot random #1</h2>"))
        #expect(page.contains("undecided: these cases cannot show whether it reaches the target"))
        #expect(page.contains("<li>The gap: zero-shot scores 0.400"))
        #expect(page.components(separatedBy: "<figure>").count == 4)
        #expect(page.components(separatedBy: "<tr>").count == 4, "a header and a row per rung")
        #expect(!page.contains("<path class=\"curve\""), "no curve without a checked projection")
        #expect(page.contains(">$0.00010</td>"))
        #expect(page.contains("配送"))
        #expect(!page.contains("<script"))
    }

    @Test func placesEachRungAtItsCostAndScore() {
        let rows = [
            Chart.Row(label: "zero-shot", score: 0.25, low: 0.1, high: 0.4),
            Chart.Row(label: "8-shot random", score: 1.0, low: 0.9, high: 1.0),
        ]
        // Costs up to 7.2e-6 dollars: ticks every 2e-6 up to 8e-6, so the plot's 644 px span 8e-6.
        let svg = Chart.costAgainstQuality(rows, costs: [2e-6, 7.2e-6], unit: "USD", target: nil)
        let x = { (cost: Double) in Chart.f(56 + cost / 8e-6 * 644) }
        let y = { (score: Double) in Chart.f(340 - 44 - score * (340 - 44 - 22)) }
        #expect(svg.contains("<circle class=\"point\" cx=\"\(x(2e-6))\" cy=\"\(y(0.25))\""))
        #expect(svg.contains("<circle class=\"point\" cx=\"\(x(7.2e-6))\" cy=\"\(y(1.0))\""))
        #expect(svg.contains(">$0.0000020</text>") && svg.contains(">$0.0000080</text>"), "ticks say how much")

        let free = Chart.costAgainstQuality(rows, costs: [0, 0], unit: "s of local compute", target: 0.9)
        #expect(!free.contains("nan") && !free.contains("inf"))
        #expect(free.contains("cx=\"56.0\""), "costless rungs stand on the axis")
    }

    @Test func drawsTheCheckedCurveOnALogScaleOfExamples() throws {
        let summary = { (k: Int, passed: Int) in SampleAdvice.summary(k, "v", "\(k)-shot", passed) }
        let fewShot = Advice.FewShot(
            variant: "t/v@1", draws: 1, maxShots: 3, limitedBy: "--max-shots 3",
            points: [Advice.FewShotPoint(k: 3, random: [summary(3, 20)], similar: summary(3, 22))])
        let truth = { (k: Int) in 0.9 - 0.8 * pow(Double(k + 1), -1.0) }
        let series = [0, 1, 2, 3, 5].map { k in (k, SampleAdvice.passes(Int((truth(k) * 400).rounded()), of: 400)) }
        let projection = Projection.project(series, target: 0.8, trainSize: 64, seed: 1)
        let curve = try #require(projection.curve)
        #expect(projection.trusted)
        let svg = Chart.learningCurve(fewShot, projection: projection, zeroShot: 0.1, target: nil, caption: "curve")
        // x runs over log2(k + 1) from -0.15 to log2(4) + 0.15 = 2.15; the curve starts at k = 0
        // and the k = 3 draw (20 of 40) sits 5 px left of k = 3.
        let x = { (position: Double) in 56 + (position + 0.15) / 2.3 * 644 }
        let y = { (score: Double) in Chart.f(340 - 44 - score * (340 - 44 - 22)) }
        #expect(svg.contains("d=\"M\(Chart.f(x(0))),\(y(min(1, max(0, curve.predict(0))))) "))
        #expect(svg.contains("<circle class=\"point\" cx=\"\(Chart.f(x(0)))\" cy=\"\(y(0.1))\""))
        #expect(svg.contains("<circle class=\"point\" cx=\"\(Chart.f(x(2) - 5))\" cy=\"\(y(0.5))\""))
        let untrusted = Chart.learningCurve(fewShot, projection: nil, zeroShot: 0.1, target: nil, caption: "curve")
        #expect(!untrusted.contains("class=\"curve\""))
    }

    @Test func cutsLongLabelsToFit() {
        let long = String(repeating: "長", count: 30)
        let svg = Chart.intervals([Chart.Row(label: long, score: 0.5)], target: nil, caption: "c")
        #expect(svg.contains(">" + DisplayWidth.truncate(long, to: 40) + "</text>"), "long labels are cut to fit")
    }

    @Test(arguments: [(0.0, 1.0), (0.3, 0.5), (0.07, 0.1), (180.0, 200.0), (250.0, 500.0), (0.00012, 0.0002)])
    func picksRoundTickSteps(rough: Double, step: Double) {
        #expect(abs(Chart.niceStep(rough) - step) < 1e-12)
    }
}
