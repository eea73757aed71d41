import Foundation
import Workbench
import WorkbenchCore

/// Reports as one self-contained HTML page (inline style and SVG, no scripts, nothing fetched):
/// the same facts as the terminal, with charts of the intervals, the few-shot curve and the
/// ladder's cost against its quality.
enum HTMLReport {
    /// A page for stored runs: their scores with intervals, the table and the paired verdicts.
    static func runs(_ report: EvalReport) -> String {
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
            body.append(section("Which is best, and is the difference real?", pre(Array(verdicts))))
        }
        return page(title: title, body: body)
    }

    /// A page for stored advice: the recommendation, the ladder, the few-shot curve, cost against
    /// quality, then the whole text report as `pwb advise --show` prints it.
    static func advice(_ report: JSONValue) -> String {
        let target = report["target"]?.doubleValue
        let rungs = report["rungs"]?.arrayValue ?? []
        let title = AdviceRendering.title(report)
        var body = ["<h1>\(escape(title))</h1>"]
        var facts = ["model \(report["model"]?.text ?? "unknown")"]
        if let used = report["cases_per_rung"]?.intValue, let total = report["dev_cases"]?.intValue {
            facts.append("\(used) of \(total) dev cases per rung")
        }
        if let target { facts.append("target \(ReportRendering.number(target))") }
        if let created = report["created_at"]?.stringValue { facts.append(created) }
        body.append("<p class=\"facts\">\(facts.map(escape).joined(separator: " · "))</p>")

        if let recommendation = report["recommendation"] {
            let reasons = (recommendation["reasons"]?.arrayValue ?? []).map { "<li>\(escape($0.text))</li>" }
            let next = (recommendation["next"]?.arrayValue ?? []).map { "<li>\(escape($0.text))</li>" }
            var box = [
                "<div class=\"recommendation\"><h2>Recommendation: \(escape(recommendation["rung"]?.text ?? ""))</h2>",
                "<p class=\"score\">\(escape(AdviceRendering.verdict(recommendation))): \(escape(AdviceRendering.interval(recommendation)))</p>",
                "<ul>\(reasons.joined())</ul>",
            ]
            if !next.isEmpty { box.append("<p>Next:</p><ul>\(next.joined())</ul>") }
            box.append("</div>")
            body.append(box.joined(separator: "\n"))
        }

        if var ladder = AdviceRendering.ladder(report) {
            let rows = rungs.map { rung in
                Chart.Row(
                    label: rung["label"]?.text ?? "", score: rung["score"]?.doubleValue ?? 0,
                    low: rung["low"]?.doubleValue, high: rung["high"]?.doubleValue,
                    projected: rung["measured"]?.boolValue == false,
                    highlighted: rung["label"] == report["recommendation"]?["rung"])
            }
            let unit = report["cost_unit"]?.stringValue ?? "USD"
            ladder.columns.insert(.init("#", right: true), at: 0)
            ladder.rows = ladder.rows.enumerated().map { [String($0.offset + 1)] + $0.element }
            body.append(
                section(
                    "The ladder",
                    Chart.intervals(rows, target: target, caption: "score of each rung with its 95% interval")
                        + Chart.costAgainstQuality(
                            rows, costs: rungs.map { $0["per_request"]?.doubleValue ?? 0 }, unit: unit, target: target)
                        + table(ladder)
                        + (rows.contains(where: \.projected) ? "<p class=\"note\">* projected, not measured</p>" : "")))
        }

        if let fewShot = report["few_shot"], let points = fewShot["points"]?.arrayValue, !points.isEmpty {
            var caption =
                "\(fewShot["variant"]?.text ?? ""): random draws (mean, and the range over draws) and similar examples"
            if let formula = fewShot["curve"]?["formula"]?.stringValue { caption += "; fitted: \(formula)" }
            let zeroShot = (report["zero_shot"]?["runs"]?.arrayValue ?? []).compactMap { $0["score"]?.doubleValue }
                .max()
            body.append(
                section(
                    "Few-shot examples",
                    Chart.learningCurve(fewShot, zeroShot: zeroShot, target: target, caption: caption))
            )
        }

        body.append(section("The whole report", pre(AdviceRendering.lines(report))))
        return page(title: title, body: body)
    }

    // MARK: - Page parts

    /// Text made safe inside an element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
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

    /// A whole document: the style inline, nothing to fetch.
    static func page(title: String, body: [String]) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
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
        """
}
