import Foundation
import Workbench
import WorkbenchCore

/// Reports as one self-contained HTML page (inline style, SVG and script, nothing fetched; a
/// Content-Security-Policy forbids every load and allows only the page's own script by its hash):
/// the same facts as the terminal, with charts of the intervals, the few-shot curve and the
/// ladder's cost against its quality, and for runs every case side by side.
enum HTMLReport {
    /// A page for stored runs: their scores with intervals, the table, the paired tests as
    /// pictures with their verdicts, the confusion, every case side by side and what was run.
    static func runs(_ report: EvalReport, matrix: CaseMatrix? = nil, details: [RunDetails] = []) -> String {
        let title = ReportRendering.heading(report)
        let names = report.runs.map { ReportRendering.name($0, in: report) }
        let namesAreUnique = Set(names).count == names.count
        let rows = report.runs.enumerated().compactMap { index, run -> Chart.Row? in
            guard let headline = run.headline else { return nil }
            return Chart.Row(
                label: namesAreUnique ? names[index] : "\(names[index]) (run \(run.run.id))",
                score: headline.interval.estimate,
                low: headline.interval.lower, high: headline.interval.upper, highlighted: index == report.best)
        }
        let scoreName = report.runs.first?.headline?.name ?? "score"
        var body = [
            "<h1>\(escape(title))</h1>",
            section(
                "\(scoreName) with 95% intervals",
                Chart.intervals(rows, target: nil, caption: "\(scoreName) of each run; the bar is its 95% interval")),
            section("Runs", table(ReportRendering.table(report))),
        ]
        let baselines = BaselineRendering.lines(report).drop { $0.isEmpty }
        if !baselines.isEmpty { body.append(section("Against the baseline", pre(Array(baselines)))) }
        let verdicts = ReportRendering.verdictLines(report).drop { $0.isEmpty }
        if !verdicts.isEmpty {
            body.append(
                section("Which is best, and is the difference real?", pairedPictures(report) + pre(Array(verdicts))))
        }
        let heatMaps = report.runs.enumerated().compactMap { index, run in
            run.headline.flatMap {
                confusionHeatMap(
                    $0,
                    title:
                        "\(names[index]) (run \(run.run.id)): rows are the expected label, columns the answer; shaded by the share of the row"
                )
            }
        }
        if !heatMaps.isEmpty { body.append(section("Confusion", heatMaps.joined(separator: "\n"))) }
        if let matrix { body.append(caseMatrix(matrix, report: report)) }
        if !details.isEmpty {
            body.append(
                "<section class=\"full\"><h2>What was run</h2>\n\(whatWasRun(report, details: details))\n</section>")
        }
        return page(title: title, body: body, script: matrix == nil ? nil : caseScript)
    }

    /// A page for stored advice: the recommendation, the ladder, the few-shot curve, cost against
    /// quality, every case with each rung's answer (`rungs`: the first run of each rung, in the
    /// ladder's order), then the whole text report as `pwb advise --show` prints it.
    static func advice(_ advice: Advice, rungs: EvalReport? = nil, matrix: CaseMatrix? = nil) -> String {
        let title = AdviceRendering.title(advice)
        var body = ["<h1>\(escape(title))</h1>"]
        var facts = [
            "model \(advice.model)", "\(advice.casesPerRung) of \(advice.devCases) dev cases per rung to start",
            "target \(ReportRendering.number(advice.target))", "margin \(ReportRendering.number(advice.margin))",
        ]
        if let created = advice.createdAt { facts.append(created) }
        body.append("<p class=\"facts\">\(facts.map(escape).joined(separator: " · "))</p>")

        if let (decision, ladder) = advice.finalDecision {
            let chosen = ladder[decision.chosen]
            let reasons = advice.reasons.map { "<li>\(escape(CLI.worded($0)))</li>" }
            let next = advice.next.map { "<li>\(escape(CLI.worded($0)))</li>" }
            var box = [
                "<div class=\"recommendation\"><h2>Recommendation: \(escape(chosen.label))</h2>",
                "<p class=\"score\">\(escape(AdviceRendering.verdict(decision))): \(escape(AdviceRendering.interval(chosen.interval)))</p>",
                "<ul>\(reasons.joined())</ul>",
            ]
            if !next.isEmpty { box.append("<p>Next:</p><ul>\(next.joined())</ul>") }
            box.append("<p class=\"note\">The rule: \(escape(advice.rule))</p>")
            box.append("</div>")
            body.append(box.joined(separator: "\n"))
        }

        if var ladder = AdviceRendering.ladder(advice) {
            let rows = advice.rungs.enumerated().map { index, rung in
                Chart.Row(
                    label: rung.label, score: rung.interval.estimate, low: rung.interval.lower,
                    high: rung.interval.upper, highlighted: index == advice.decision?.chosen)
            }
            ladder.columns.insert(.init("#", right: true), at: 0)
            ladder.rows = ladder.rows.enumerated().map { [String($0.offset + 1)] + $0.element }
            body.append(
                section(
                    "The ladder",
                    Chart.intervals(rows, target: advice.target, caption: "score of each rung with its 95% interval")
                        + Chart.costAgainstQuality(
                            rows, costs: advice.rungs.map(advice.cost.perRequest), unit: advice.cost.unit,
                            target: advice.target)
                        + table(ladder)))
        }

        for step in advice.steps { body.append(section(step.title, stepContent(step, advice: advice))) }

        if let rungs, let matrix { body.append(caseMatrix(matrix, report: rungs)) }
        body.append(section("The whole report", pre(AdviceRendering.lines(advice))))
        return page(title: title, body: body, script: matrix == nil ? nil : caseScript)
    }

    /// A ladder step's part of the advice page: the few-shot curve as a chart, the rest as the
    /// terminal shows them.
    static func stepContent(_ step: AdviceStep, advice: Advice) -> String {
        guard case .fewShot(let fewShot) = step, !fewShot.points.isEmpty else {
            return pre(AdviceRendering.step(step, advice: advice))
        }
        var caption = "\(fewShot.variant): random draws (mean, and the range over draws) and similar examples"
        if let projection = advice.projection, projection.trusted, let curve = projection.curve {
            caption += "; fitted and checked: \(curve.formula)"
        }
        return Chart.learningCurve(
            fewShot, projection: advice.projection,
            zeroShot: advice.zeroShot?.variants.filter { $0.cases > 0 }.map(\.interval.estimate).max(),
            target: advice.target, caption: caption) + pre(AdviceRendering.step(step, advice: advice))
    }

    // MARK: - Page parts

    /// Text made safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        // By scalar, not Character: `"` and a combining mark after it are one Character to
        // Swift, but the quote still ends an attribute for the browser.
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }

    static func section(_ heading: String, _ content: String) -> String {
        "<section><h2>\(escape(heading))</h2>\n\(content)\n</section>"
    }

    static func pre(_ lines: [String]) -> String {
        "<pre>\(escape(lines.joined(separator: "\n")))</pre>"
    }

    /// The terminal's table as an HTML table, right-aligned columns kept.
    static func table(_ table: Table) -> String {
        func cells(_ row: [String], tag: String) -> String {
            table.columns.indices.map { index in
                let text = index < row.count ? row[index] : ""
                let align = table.columns[index].alignRight ? " class=\"num\"" : ""
                return "<\(tag)\(align)>\(escape(text))</\(tag)>"
            }.joined()
        }
        let head = "<tr>\(cells(table.columns.map(\.title), tag: "th"))</tr>"
        let rows = table.rows.map { "<tr>\(cells($0, tag: "td"))</tr>" }
        return "<div class=\"wide\"><table>\n\(head)\n\(rows.joined(separator: "\n"))\n</table></div>"
    }

    /// A whole document: the style and any script inline, nothing to fetch. The policy forbids
    /// every load; a script runs only when its hash is the one the policy names.
    static func page(title: String, body: [String], script: String? = nil) -> String {
        var policy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
        var scriptElement = ""
        if let script {
            var hash = SHA256()
            hash.update(script)
            policy += "; script-src 'sha256-\(Data(hash.finalize()).base64EncodedString())'"
            scriptElement = "<script>\(script)</script>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="\(policy)">
            <title>\(escape(title))</title>
            <style>\(style)</style>
            \(scriptElement)</head>
            <body>
            \(body.joined(separator: "\n"))
            <footer>pwb report</footer>
            </body>
            </html>

            """
    }

    static let style = """
        body { font: 15px/1.5 system-ui, "Noto Sans", "Noto Sans CJK JP", sans-serif; color: #1d2430;
          max-width: 980px; margin: 2rem auto; padding: 0 1rem; }
        h1 { font-size: 1.35rem; margin-bottom: .25rem; } .wide { overflow-x: auto; } h2 { font-size: 1.15rem; margin-top: 2rem; }
        .facts, .note, footer, figcaption { color: #5b6472; font-size: .9rem; }
        .recommendation { border-left: 4px solid #2f6fdb; background: #f3f7fe; padding: .25rem 1rem; }
        .recommendation h2 { margin-top: .5rem; } .score { font-size: 1.1rem; font-variant-numeric: tabular-nums; }
        table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
        th, td { padding: .2rem .7rem; border-bottom: 1px solid #e3e6eb; text-align: left; white-space: nowrap; }
        th { font-weight: 600; font-size: .85rem; } .num { text-align: right; }
        pre { background: #f6f7f9; padding: 1rem; white-space: pre-wrap; font-size: 13px; line-height: 1.35; }
        figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
        svg text { font: 12px system-ui, "Noto Sans", "Noto Sans CJK JP", sans-serif; fill: #1d2430; }
        svg .grid { stroke: #eceef2; } svg .muted { fill: #5b6472; }
        svg .target { stroke: #c2410c; stroke-dasharray: 5 4; } svg .target-label { fill: #c2410c; }
        svg .whisker { stroke: #2f6fdb; stroke-width: 2; } svg .point { fill: #2f6fdb; }
        svg .best .whisker { stroke: #15803d; } svg .best .point { fill: #15803d; }
        svg .projected .point { fill: #fff; stroke: #2f6fdb; stroke-width: 2; }
        svg .similar .whisker { stroke: #d97706; } svg .similar .point { fill: #d97706; }
        svg .zero .point { fill: #6b7280; } svg .curve { fill: none; stroke: #2f6fdb; stroke-opacity: .45; stroke-width: 2; }
        section.full { width: min(96vw, 1600px); position: relative; left: 50%; transform: translateX(-50%); }
        .controls { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; margin: .75rem 0; font-size: .9rem; }
        .controls input { width: 16rem; } #case-status { color: #5b6472; }
        table.cases { width: 100%; table-layout: fixed; }
        table.cases th, table.cases td { white-space: normal; vertical-align: top; overflow-wrap: anywhere;
          word-break: normal; line-break: strict; font-size: 13px; border-bottom: 1px solid #e3e6eb; }
        table.cases th:first-child { width: 7rem; } table.cases th:nth-child(2) { width: 26%; } table.cases th:nth-child(3) { width: 9rem; } table.cases .id { font-family: ui-monospace, monospace; font-size: 12px; }
        table.cases .out { white-space: pre-wrap; } table.cases summary { cursor: pointer; white-space: pre-wrap; color: #374151; }
        td.pass { background: #ecfdf3; } td.fail { background: #fef2f2; } td.partial { background: #fffbeb; }
        td.error { background: #f3f4f6; color: #6b7280; } td.missing { color: #9ca3af; }
        td .mark { float: right; margin-left: .5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
        td.pass .mark { color: #15803d; } td.fail .mark { color: #b91c1c; } td.partial .mark { color: #b45309; }
        #case-more { margin: .5rem 0; padding: .3rem 1rem; }
        .paired { display: inline-block; vertical-align: top; margin: 0 2rem 1rem 0; max-width: 440px; }
        .paired h3 { font-size: 1rem; margin: .5rem 0 0; } .paired p { font-size: .9rem; }
        table.pair td { text-align: center; font-size: 1.2rem; font-variant-numeric: tabular-nums; min-width: 6rem; }
        table.pair small { display: block; font-size: .75rem; color: #5b6472; }
        table.pair td.win { background: #dcfce7; } table.pair td.loss { background: #fee2e2; } table.pair td.same { background: #f3f4f6; }
        table.heat td { text-align: center; min-width: 3.5rem; font-variant-numeric: tabular-nums; }
        table.heat td.hit { outline: 1px solid #15803d; outline-offset: -1px; }
        pre.diff del { color: #b91c1c; text-decoration: none; background: #fef2f2; display: block; }
        pre.diff ins { color: #15803d; text-decoration: none; background: #ecfdf3; display: block; }
        pre.diff span { display: block; } details { margin: .5rem 0; } ul.errors { font-size: .9rem; }
        """
}
