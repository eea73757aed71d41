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
        let rows = report.runs.enumerated().compactMap { index, run -> Chart.Row? in
            guard let headline = run.headline else { return nil }
            return Chart.Row(
                label: ReportRendering.name(run, in: report), score: headline.interval.estimate,
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
        let title =
            "Advice #\(report["id"]?.text ?? "") for \(report["template"]?.text ?? "") on \(report["evalset"]?.text ?? "")"
        var body = ["<h1>\(escape(title))</h1>"]
        var facts = ["model \(report["model"]?.text ?? "")"]
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

        if !rungs.isEmpty {
            let rows = rungs.map { rung in
                Chart.Row(
                    label: rung["label"]?.text ?? "", score: rung["score"]?.doubleValue ?? 0,
                    low: rung["low"]?.doubleValue, high: rung["high"]?.doubleValue,
                    projected: rung["measured"]?.boolValue == false,
                    highlighted: rung["label"] == report["recommendation"]?["rung"])
            }
            let unit = report["cost_unit"]?.stringValue ?? "USD"
            var ladder = AdviceRendering.ladder(report) ?? Table([])
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
        svg .axis { stroke: #9aa3af; } svg .grid { stroke: #eceef2; } svg .muted { fill: #5b6472; }
        svg .target { stroke: #c2410c; stroke-dasharray: 5 4; } svg .target-label { fill: #c2410c; }
        svg .whisker { stroke: #2f6fdb; stroke-width: 2; } svg .point { fill: #2f6fdb; }
        svg .best .whisker { stroke: #15803d; } svg .best .point { fill: #15803d; }
        svg .projected .point { fill: #fff; stroke: #2f6fdb; stroke-width: 2; }
        svg .similar .whisker { stroke: #d97706; } svg .similar .point { fill: #d97706; }
        svg .zero .point { fill: #6b7280; } svg .curve { fill: none; stroke: #2f6fdb; stroke-opacity: .45; stroke-width: 2; }
        """
}

/// The three kinds of chart the reports draw, as inline SVG. Scores run from 0 to 1.
enum Chart {
    struct Row {
        var label: String
        var score: Double
        var low: Double?
        var high: Double?
        var projected = false
        var highlighted = false
    }

    /// A plot area: data coordinates to SVG pixels, and the elements drawn so far.
    struct Plot {
        var width = 760.0
        var height: Double
        var left: Double
        var right = 60.0
        var top = 22.0
        var bottom = 44.0
        var xRange: ClosedRange<Double>
        var yRange: ClosedRange<Double> = 0...1
        var elements: [String] = []

        func x(_ value: Double) -> Double {
            left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - left - right)
        }

        func y(_ value: Double) -> Double {
            height - bottom - (value - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
                * (height - top - bottom)
        }

        mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ style: String) {
            elements.append(
                "<line class=\"\(style)\" x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\"/>")
        }

        mutating func text(_ x: Double, _ y: Double, _ text: String, anchor: String = "start", style: String = "") {
            let styleAttribute = style.isEmpty ? "" : " class=\"\(style)\""
            elements.append(
                "<text\(styleAttribute) x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(HTMLReport.escape(text))</text>"
            )
        }

        /// A point with its interval as a whisker, vertical or horizontal, in a group of `style`.
        mutating func mark(
            at point: (x: Double, y: Double), from start: (x: Double, y: Double)?, to end: (x: Double, y: Double)?,
            style: String, square: Bool = false, title: String
        ) {
            var group = "<g class=\"\(style)\"><title>\(HTMLReport.escape(title))</title>"
            if let start, let end {
                group +=
                    "<line class=\"whisker\" x1=\"\(f(start.x))\" y1=\"\(f(start.y))\" x2=\"\(f(end.x))\" y2=\"\(f(end.y))\"/>"
            }
            group +=
                square
                ? "<rect class=\"point\" x=\"\(f(point.x - 4.5))\" y=\"\(f(point.y - 4.5))\" width=\"9\" height=\"9\"/>"
                : "<circle class=\"point\" cx=\"\(f(point.x))\" cy=\"\(f(point.y))\" r=\"5\"/>"
            elements.append(group + "</g>")
        }

        /// Grid lines and labels for scores on the y axis.
        mutating func scoreAxis(title: String) {
            for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
                line(left, y(tick), width - right, y(tick), "grid")
                text(left - 8, y(tick) + 4, String(format: "%.2f", tick), anchor: "end", style: "muted")
            }
            text(left, top - 8, title, style: "muted")
        }

        mutating func target(_ value: Double?) {
            guard let value else { return }
            line(left, y(value), width - right, y(value), "target")
            text(width - right + 4, y(value) + 4, "target", style: "target-label")
        }

        func svg(caption: String) -> String {
            """
            <figure><svg viewBox="0 0 \(f(width)) \(f(height))" width="\(f(width))" height="\(f(height))" role="img" aria-label="\(HTMLReport.escape(caption))">
            \(elements.joined(separator: "\n"))
            </svg><figcaption>\(HTMLReport.escape(caption))</figcaption></figure>
            """
        }
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// One row per item: the score as a point on a 0–1 axis, the interval as a bar through it.
    static func intervals(_ rows: [Row], target: Double?, caption: String) -> String {
        let labelWidth = rows.map { DisplayWidth.of($0.label) }.max() ?? 0
        let rowHeight = 26.0
        var plot = Plot(
            height: 22 + Double(rows.count) * rowHeight + 36, left: min(320, max(90, Double(labelWidth) * 7.2 + 20)),
            xRange: 0...1)
        plot.top = 22
        plot.bottom = 36
        let bottom = plot.height - plot.bottom
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            plot.line(plot.x(tick), plot.top, plot.x(tick), bottom, "grid")
            plot.text(plot.x(tick), bottom + 16, String(format: "%.2f", tick), anchor: "middle", style: "muted")
        }
        if let target {
            plot.line(plot.x(target), plot.top - 6, plot.x(target), bottom, "target")
            plot.text(
                plot.x(target), plot.top - 10, "target \(String(format: "%.2f", target))", anchor: "middle",
                style: "target-label")
        }
        for (index, row) in rows.enumerated() {
            let y = plot.top + (Double(index) + 0.5) * rowHeight
            plot.text(plot.left - 10, y + 4, row.label, anchor: "end")
            let whisker = row.low.flatMap { low in row.high.map { high in (low, high) } }.flatMap {
                $0.0 < $0.1 ? $0 : nil
            }
            plot.mark(
                at: (plot.x(row.score), y), from: whisker.map { (plot.x($0.0), y) },
                to: whisker.map { (plot.x($0.1), y) },
                style: style(of: row), title: "\(row.label): \(text(of: row))")
            plot.text(plot.x(whisker?.1 ?? row.score) + 8, y + 4, String(format: "%.3f", row.score), style: "muted")
        }
        return plot.svg(caption: caption)
    }

    /// Each rung at its cost per request (x) and score (y), numbered as in the ladder's table.
    static func costAgainstQuality(_ rows: [Row], costs: [Double], unit: String, target: Double?) -> String {
        let step = niceStep((costs.max() ?? 0) / 4)
        let top = max(step, ((costs.max() ?? 0) / step).rounded(.up) * step)
        var plot = Plot(height: 340, left: 56, xRange: 0...top)
        plot.scoreAxis(title: "score, against the cost of one request")
        for tick in stride(from: 0.0, through: top + step / 2, by: step) {
            plot.line(plot.x(tick), plot.y(1), plot.x(tick), plot.y(0), "grid")
            let label = unit == "USD" ? DecisionRules.dollars(tick) : DecisionRules.duration(tick)
            plot.text(plot.x(tick), plot.y(0) + 18, label, anchor: "middle", style: "muted")
        }
        plot.text(
            plot.x(top), plot.y(0) + 36, unit == "USD" ? "price per request" : "local compute per request",
            anchor: "end", style: "muted")
        plot.target(target)
        for (index, (row, cost)) in zip(rows, costs).enumerated() {
            let x = plot.x(cost)
            let low = row.low.map(plot.y)
            let high = row.high.map(plot.y)
            let whisker = low.flatMap { low in high.map { (low, $0) } }.flatMap { $0.0 != $0.1 ? $0 : nil }
            plot.mark(
                at: (x, plot.y(row.score)), from: whisker.map { (x, $0.0) }, to: whisker.map { (x, $0.1) },
                style: style(of: row), title: "\(index + 1). \(row.label): \(text(of: row))")
            plot.text(x + 7, plot.y(row.score) - 6, String(index + 1))
        }
        return plot.svg(
            caption: "each rung numbered as in the table below: up is better, left is cheaper; bars are 95% intervals")
    }

    /// Score against the number of examples k (log scale): random draws (mean, range), similar
    /// examples (interval), zero-shot at k = 0, and the fitted curve.
    static func learningCurve(_ fewShot: JSONValue, zeroShot: Double?, target: Double?, caption: String) -> String {
        let points = fewShot["points"]?.arrayValue ?? []
        let ks = points.compactMap { $0["k"]?.doubleValue }
        let position = { (k: Double) in log2(k + 1) }
        var plot = Plot(height: 340, left: 56, xRange: -0.15...(position(ks.max() ?? 1) + 0.15))
        plot.scoreAxis(title: "score, by examples in the prompt")
        for k in [0] + ks {
            plot.text(plot.x(position(k)), plot.y(0) + 18, String(Int(k)), anchor: "middle", style: "muted")
        }
        plot.text(
            plot.x(plot.xRange.upperBound), plot.y(0) + 36, "examples k (log scale)", anchor: "end", style: "muted")
        plot.target(target)
        let curve = fewShot["curve"]
        if let ceiling = curve?["ceiling"]?.doubleValue, let amplitude = curve?["amplitude"]?.doubleValue,
            let exponent = curve?["exponent"]?.doubleValue, let last = ks.max()
        {
            let path = (0...48).map { step -> String in
                let k = last * Double(step) / 48
                let score = min(1, max(0, ceiling - amplitude * pow(k + 1, -exponent)))
                return "\(step == 0 ? "M" : "L")\(f(plot.x(position(k)))),\(f(plot.y(score)))"
            }
            plot.elements.append("<path class=\"curve\" d=\"\(path.joined(separator: " "))\"/>")
        }
        if let zeroShot {
            plot.mark(
                at: (plot.x(0), plot.y(zeroShot)), from: nil, to: nil, style: "zero",
                title: "zero-shot: \(String(format: "%.3f", zeroShot))")
        }
        for point in points {
            guard let k = point["k"]?.doubleValue else { continue }
            let x = plot.x(position(k))
            if let mean = point["random_mean"]?.doubleValue {
                let low = point["random_min"]?.doubleValue ?? mean
                let high = point["random_max"]?.doubleValue ?? mean
                plot.mark(
                    at: (x - 5, plot.y(mean)), from: (x - 5, plot.y(low)), to: (x - 5, plot.y(high)), style: "random",
                    title:
                        "\(Int(k))-shot random: mean \(String(format: "%.3f", mean)), range \(String(format: "%.3f–%.3f", low, high))"
                )
            }
            if let similar = point["similar"], let score = similar["score"]?.doubleValue {
                let low = similar["low"]?.doubleValue ?? score
                let high = similar["high"]?.doubleValue ?? score
                plot.mark(
                    at: (x + 5, plot.y(score)), from: (x + 5, plot.y(low)), to: (x + 5, plot.y(high)), style: "similar",
                    square: true,
                    title: "\(Int(k))-shot similar: \(String(format: "%.3f [%.3f, %.3f]", score, low, high))")
            }
        }
        let legend = """
            <p class="note"><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="#2f6fdb"/></svg> random (mean; bar: range over draws)
            &nbsp; <svg width="12" height="12"><rect x="1" y="1" width="10" height="10" fill="#d97706"/></svg> similar (bar: 95% interval)
            &nbsp; <svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="#6b7280"/></svg> zero-shot, best variant</p>
            """
        return plot.svg(caption: caption) + legend
    }

    static func style(of row: Row) -> String {
        [row.highlighted ? "best" : "", row.projected ? "projected" : ""].filter { !$0.isEmpty }.joined(
            separator: " ")
    }

    static func text(of row: Row) -> String {
        if let low = row.low, let high = row.high, low < high {
            return String(format: "%.3f [%.3f, %.3f]", row.score, low, high)
        }
        return String(format: "%.3f", row.score) + (row.projected ? " (projected)" : "")
    }

    /// 1, 2 or 5 times a power of ten, the step for about four ticks up to `rough * 4`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(rough)))
        let fraction = rough / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }
}
