import Testing
import WorkbenchCore

@testable import WorkbenchCLI

struct AdviceRenderingTests {
    @Test func showsAnIntervalOnlyWhenThereIsOne() {
        let measured: JSONValue = ["score": 0.9, "low": 0.78, "high": 0.965]
        let projected: JSONValue = ["score": 0.967, "low": 0.967, "high": 0.967]
        #expect(AdviceRendering.interval(measured) == "0.900 [0.780, 0.965]")
        #expect(AdviceRendering.interval(projected) == "0.967 (no interval)")
        #expect(AdviceRendering.interval(nil) == "–")
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
        let rung = { (label: String, score: Double, cost: Double) -> JSONValue in
            [
                "label": .string(label), "score": .number(score), "low": .number(score - 0.1),
                "high": .number(score + 0.05), "measured": true, "per_request": .number(cost),
                "prompt_tokens": 40,
            ]
        }
        let advice: JSONValue = [
            "id": 3, "template": "ja-inquiry", "evalset": "ja-inquiry", "target": 0.8, "cost_unit": "USD",
            "rungs": [rung("zero-shot (instruction)", 0.4, 0.0001), rung("4-shot random", 0.85, 0.0004)],
            "recommendation": [
                "rung": "4-shot random", "verdict": "likely", "score": 0.85, "low": 0.75, "high": 0.9,
                "reasons": ["The gap: <0.4>"],
            ],
            "few_shot": [
                "variant": "ja-inquiry/instruction@1",
                "points": [["k": 4, "random_mean": 0.85, "random_min": 0.8, "random_max": 0.9]],
                "curve": ["ceiling": 0.9, "amplitude": 0.5, "exponent": 1.0],
            ],
        ]
        let page = HTMLReport.advice(advice)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<h1>Advice #3 for ja-inquiry on ja-inquiry (dev)</h1>"))
        #expect(page.contains("<h2>Recommendation: 4-shot random</h2>"))
        #expect(page.contains("likely meets the target: 0.850 [0.750, 0.900]"))
        #expect(page.contains("<li>The gap: &lt;0.4&gt;</li>"))
        #expect(page.components(separatedBy: "<figure>").count == 4)
        #expect(page.components(separatedBy: "<tr>").count == 4, "a header and a row per rung")
        #expect(page.contains("<path class=\"curve\""))
        #expect(page.contains(">$0.00040</td>"))
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

    @Test func drawsTheCurveOnALogScaleOfExamples() {
        let fewShot: JSONValue = [
            "points": [["k": 3, "random_mean": 0.5, "random_min": 0.4, "random_max": 0.6]],
            "curve": ["ceiling": 0.9, "amplitude": 0.8, "exponent": 1.0],
        ]
        let svg = Chart.learningCurve(fewShot, zeroShot: 0.1, target: nil, caption: "curve")
        // x runs over log2(k + 1) from -0.15 to log2(4) + 0.15 = 2.15; the curve starts at k = 0
        // with 0.9 - 0.8 = 0.1, where the zero-shot point is, and the k = 3 draw sits 5 px left of k = 3.
        let x = { (position: Double) in 56 + (position + 0.15) / 2.3 * 644 }
        let y = { (score: Double) in Chart.f(340 - 44 - score * (340 - 44 - 22)) }
        #expect(svg.contains("d=\"M\(Chart.f(x(0))),\(y(0.1)) "))
        #expect(svg.contains("<circle class=\"point\" cx=\"\(Chart.f(x(0)))\" cy=\"\(y(0.1))\""))
        #expect(svg.contains("<circle class=\"point\" cx=\"\(Chart.f(x(2) - 5))\" cy=\"\(y(0.5))\""))
        #expect(svg.hasSuffix("</p>") && svg.contains(" L\(Chart.f(x(2))),\(y(0.9 - 0.8 / 4))\"/>"))
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
