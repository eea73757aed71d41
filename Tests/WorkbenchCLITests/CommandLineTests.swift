import Testing
import WorkbenchCore

@testable import WorkbenchCLI

struct CommandParsingTests {
    static let command = Command(
        "demo run", "a command for tests", arguments: "NAME [MORE]", min: 1, max: 2,
        options: [
            Option("json", "JSON"), Option("limit", value: "N", "a limit"),
            Option("var", value: "K=V", repeatable: true, "variables"),
        ]
    ) { _ in }

    @Test func splitsPositionalsFlagsAndValues() throws {
        let parsed = try Self.command.parse([
            "a", "--json", "--limit=5", "--var", "x=1", "--var", "y=2", "--", "--literal",
        ])
        #expect(parsed.positionals == ["a", "--literal"])
        #expect(parsed.flag("json"))
        #expect(try parsed.int("limit") == 5)
        #expect(parsed.all("var") == ["x=1", "y=2"])
    }

    @Test(arguments: [
        (["a", "--jsn"], "unknown option --jsn; did you mean --json?"),
        (["a", "--limit"], "--limit needs a value (N)"),
        (["a", "--json=yes"], "--json takes no value"),
        (["a", "--limit", "1", "--limit", "2"], "--limit is given twice"),
        ([], "demo run needs NAME [MORE]; usage: pwb demo run NAME [MORE] [options]"),
        (["a", "b", "c"], "unexpected argument \"c\""),
    ])
    func reportsMisuseWithTheUsage(words: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try Self.command.parse(words) }
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func checksNumbers() throws {
        let parsed = try Self.command.parse(["a", "--limit", "many"])
        #expect(throws: UsageError.self) { try parsed.int("limit") }
        let negative = try Self.command.parse(["a", "--limit", "-3"])
        #expect(throws: UsageError.self) { try negative.int("limit", min: 0) }
    }

    @Test func helpListsTheOptions() {
        let help = Self.command.help
        #expect(help.first == "usage: pwb demo run NAME [MORE] [options]")
        #expect(help.contains("  --limit N  a limit"))
    }
}

struct TableTests {
    @Test func alignsColumnsByDisplayWidth() {
        var table = Table([.init("ID"), .init("TEXT"), .init("N", right: true)])
        table.add(["ja-1", "配送はいつですか", "3"])
        table.add(["en-22", "when is it coming", "12"])
        let lines = table.render()
        #expect(lines.count == 4)
        // Every row's third column ends at the same terminal column.
        let widths = lines.map { DisplayWidth.of($0) }
        #expect(Set(widths).count == 1, "\(lines)")
        #expect(lines[2] == "ja-1   配送はいつですか    3")
    }

    @Test func truncatesLongCells() {
        var table = Table([.init("A", maxWidth: 6)])
        table.add(["返品したいのですが"])
        #expect(table.render()[2] == "返品…")
    }
}

@MainActor
struct CLIDispatchTests {
    @Test func findsTheLongestCommandAndSuggestsForTypos() throws {
        let (command, rest) = try CLI.find(["template", "show", "a/b"])
        #expect(command.name == "template show")
        #expect(rest == ["a/b"])
        #expect(throws: UsageError.self) { try CLI.find(["tempalte"]) }
        let error = #expect(throws: UsageError.self) { try CLI.find(["runs", "shwo"]) }
        #expect(error?.message.contains("did you mean runs show?") == true)
    }

    @Test func everyCommandHasAUniquePathAndHelp() {
        let cli = CLI.commands.map(\.name)
        let repl = REPLCommands.all.map(\.name)
        #expect(Set(cli).count == cli.count)
        #expect(Set(repl).count == repl.count)
        // In the REPL, compare also works without arguments (the current variant's two newest runs).
        #expect(Set(cli).intersection(repl) == ["compare"])
        for command in CLI.commands + REPLCommands.all {
            #expect(!command.summary.isEmpty)
            #expect(command.help.first?.hasPrefix("usage: pwb \(command.name)") == true)
        }
    }
}

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
        #expect(page.contains("<h1>Advice #3 for ja-inquiry on ja-inquiry</h1>"))
        #expect(page.contains("<h2>Recommendation: 4-shot random</h2>"))
        #expect(page.contains("likely meets the target: 0.850 [0.750, 0.900]"))
        #expect(page.contains("<li>The gap: &lt;0.4&gt;</li>"))
        #expect(page.components(separatedBy: "<figure>").count == 4)
        #expect(page.components(separatedBy: "<tr>").count == 4, "a header and a row per rung")
        #expect(page.contains("<path class=\"curve\""))
        #expect(page.contains(">$0.0004</td>"))
        #expect(!page.contains("<script"))
    }

    @Test(arguments: [(0.0, 1.0), (0.3, 0.5), (0.07, 0.1), (180.0, 200.0), (250.0, 500.0), (0.00012, 0.0002)])
    func picksRoundTickSteps(rough: Double, step: Double) {
        #expect(abs(Chart.niceStep(rough) - step) < 1e-12)
    }
}
