import Foundation
import WorkbenchCore

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
        var elements: [String] = []

        func x(_ value: Double) -> Double {
            left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * (width - left - right)
        }

        /// Scores, 0 at the bottom and 1 at the top.
        func y(_ score: Double) -> Double { height - bottom - score * (height - top - bottom) }

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
                text(left - 8, y(tick) + 4, ReportRendering.number(tick, digits: 2), anchor: "end", style: "muted")
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

    /// One row per item: the score as a point on a 0–1 axis, the interval as a bar through it.
    static func intervals(_ rows: [Row], target: Double?, caption: String) -> String {
        let labels = rows.map { DisplayWidth.truncate($0.label, to: 40) }
        let labelWidth = Double(labels.map(DisplayWidth.of).max() ?? 0)
        let rowHeight = 26.0
        var plot = Plot(
            height: 22 + Double(rows.count) * rowHeight + 36, left: max(90, labelWidth * 7.2 + 20), top: 22,
            bottom: 36, xRange: 0...1)
        let bottom = plot.height - plot.bottom
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            plot.line(plot.x(tick), plot.top, plot.x(tick), bottom, "grid")
            plot.text(
                plot.x(tick), bottom + 16, ReportRendering.number(tick, digits: 2), anchor: "middle", style: "muted")
        }
        if let target {
            plot.line(plot.x(target), plot.top - 6, plot.x(target), bottom, "target")
            plot.text(
                plot.x(target), plot.top - 10, "target \(ReportRendering.number(target, digits: 2))", anchor: "middle",
                style: "target-label")
        }
        for (index, row) in rows.enumerated() {
            let y = plot.top + (Double(index) + 0.5) * rowHeight
            plot.text(plot.left - 10, y + 4, labels[index], anchor: "end")
            let bar = interval(of: row)
            plot.mark(
                at: (plot.x(row.score), y), from: bar.map { (plot.x($0.low), y) }, to: bar.map { (plot.x($0.high), y) },
                style: style(of: row), title: "\(row.label): \(text(of: row))")
            plot.text(plot.x(bar?.high ?? row.score) + 8, y + 4, ReportRendering.number(row.score), style: "muted")
        }
        return plot.svg(caption: caption)
    }

    /// Each rung at its cost per request (x) and score (y), numbered as in the ladder's table.
    static func costAgainstQuality(_ rows: [Row], costs: [Double], unit: String, target: Double?) -> String {
        let highest = costs.max() ?? 0
        let step = niceStep(highest / 4)
        let top = max(step, (highest / step).rounded(.up) * step)
        var plot = Plot(height: 340, left: 56, xRange: 0...top)
        plot.scoreAxis(title: "score, against the cost of one request")
        for tick in stride(from: 0.0, through: top + step / 2, by: step) {
            plot.line(plot.x(tick), plot.y(1), plot.x(tick), plot.y(0), "grid")
            let label = unit == "USD" ? Advice.dollars(tick) : Advice.duration(tick)
            plot.text(plot.x(tick), plot.y(0) + 18, label, anchor: "middle", style: "muted")
        }
        plot.text(
            plot.x(top), plot.y(0) + 36, unit == "USD" ? "price per request" : "local compute per request",
            anchor: "end", style: "muted")
        plot.target(target)
        for (index, (row, cost)) in zip(rows, costs).enumerated() {
            let x = plot.x(cost)
            let bar = interval(of: row)
            plot.mark(
                at: (x, plot.y(row.score)), from: bar.map { (x, plot.y($0.low)) }, to: bar.map { (x, plot.y($0.high)) },
                style: style(of: row), title: "\(index + 1). \(row.label): \(text(of: row))")
            plot.text(x + 7, plot.y(row.score) - 6, String(index + 1))
        }
        return plot.svg(
            caption: "each rung numbered as in the table below: up is better, left is cheaper; bars are 95% intervals")
    }

    /// Score against the number of examples k (log scale): random draws (mean, range), similar
    /// examples (interval), zero-shot at k = 0, and the fitted curve where it passed its check,
    /// drawn only as far as the measured k.
    static func learningCurve(
        _ fewShot: Advice.FewShot, projection: Projection?, zeroShot: Double?, target: Double?, caption: String
    ) -> String {
        let ks = fewShot.points.map { Double($0.k) }
        let position = { (k: Double) in log2(k + 1) }
        var plot = Plot(height: 340, left: 56, xRange: -0.15...(position(ks.max() ?? 1) + 0.15))
        plot.scoreAxis(title: "score, by examples in the prompt")
        for k in [0] + ks {
            plot.text(plot.x(position(k)), plot.y(0) + 18, String(Int(k)), anchor: "middle", style: "muted")
        }
        plot.text(
            plot.x(plot.xRange.upperBound), plot.y(0) + 36, "examples k (log scale)", anchor: "end", style: "muted")
        plot.target(target)
        if let projection, projection.trusted, let curve = projection.curve, let last = ks.max() {
            let path = (0...48).map { step -> String in
                let k = last * Double(step) / 48
                let score = min(1, max(0, curve.predict(k)))
                return "\(step == 0 ? "M" : "L")\(f(plot.x(position(k)))),\(f(plot.y(score)))"
            }
            plot.elements.append("<path class=\"curve\" d=\"\(path.joined(separator: " "))\"/>")
        }
        if let zeroShot {
            plot.mark(
                at: (plot.x(0), plot.y(zeroShot)), from: nil, to: nil, style: "zero",
                title: "zero-shot: \(n(zeroShot))")
        }
        for point in fewShot.points {
            let k = Double(point.k)
            let x = plot.x(position(k))
            let scores = point.randomScores
            if let mean = point.randomMean, let low = scores.min(), let high = scores.max() {
                plot.mark(
                    at: (x - 5, plot.y(mean)), from: (x - 5, plot.y(low)), to: (x - 5, plot.y(high)), style: "random",
                    title: "\(point.k)-shot random: mean \(n(mean)), range \(n(low))–\(n(high))")
            }
            if point.similar.cases > 0 {
                let similar = point.similar.interval
                plot.mark(
                    at: (x + 5, plot.y(similar.estimate)), from: (x + 5, plot.y(similar.lower)),
                    to: (x + 5, plot.y(similar.upper)), style: "similar", square: true,
                    title:
                        "\(point.k)-shot similar: \(n(similar.estimate)) [\(n(similar.lower)), \(n(similar.upper))]")
            }
        }
        let legend = """
            <p class="note"><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="#2f6fdb"/></svg> random (mean; bar: range over draws)
            &nbsp; <svg width="12" height="12"><rect x="1" y="1" width="10" height="10" fill="#d97706"/></svg> similar (bar: 95% interval)
            &nbsp; <svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="#6b7280"/></svg> zero-shot, best variant</p>
            """
        return plot.svg(caption: caption) + legend
    }

    /// SVG coordinates to a tenth of a pixel.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func n(_ score: Double) -> String { ReportRendering.number(score) }

    /// The row's interval when it has one of some width; a projection has none.
    static func interval(of row: Row) -> (low: Double, high: Double)? {
        guard let low = row.low, let high = row.high, low < high else { return nil }
        return (low, high)
    }

    static func style(of row: Row) -> String {
        [row.highlighted ? "best" : "", row.projected ? "projected" : ""].filter { !$0.isEmpty }.joined(
            separator: " ")
    }

    static func text(of row: Row) -> String {
        guard let bar = interval(of: row) else { return n(row.score) + (row.projected ? " (projected)" : "") }
        return "\(n(row.score)) [\(n(bar.low)), \(n(bar.high))]"
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
