import Foundation
import ModelRuntime
import Workbench
import WorkbenchCore

/// Eval reports as terminal tables and CSV.
enum ReportRendering {
    static func number(_ value: Double, digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }

    static func interval(_ interval: Interval) -> String {
        "\(number(interval.estimate)) [\(number(interval.lower)), \(number(interval.upper))]"
    }

    static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded()))%" }

    /// `p=0.012`, or `p<0.001` below that; never rounded across 0.05.
    static func pValue(_ p: Double) -> String { Comparison.pText(p) }

    /// The table of runs, then the best run and the paired verdicts against it.
    static func lines(_ report: EvalReport, title: String? = nil) -> [String] {
        guard !report.runs.isEmpty else { return ["No runs."] }
        return [heading(report, title: title)] + table(report).render() + BaselineRendering.lines(report)
            + verdictLines(report)
    }

    /// What the runs were: the template, eval set and split, and whatever they all share.
    static func heading(_ report: EvalReport, title: String? = nil) -> String {
        guard let first = report.runs.first else { return title ?? "No runs." }
        let shown = Distinguishing(report)
        var heading =
            title
            ?? "\(first.reference.split(separator: "/").first ?? "") on \(report.evalset) (\(report.split), \(first.run.plan.count) cases)"
        if !shown.model {
            // A model on this machine is known by its file; otherwise say what told it apart.
            let basis = first.run.params.identityBasis.flatMap { $0 == ModelIdentity.fileContentBasis ? nil : $0 }
            heading += " · model \(first.modelName) (\(first.run.model)\(basis.map { ", told apart by \($0)" } ?? ""))"
        }
        if !shown.strategy { heading += " · \(first.strategy.label)" }
        if !shown.reader { heading += " · " + readerLabel(first.reader) }
        if first.run.samples > 1 { heading += " · \(first.run.samples) samples per case" }
        return heading
    }

    /// A row per run: what tells it apart, its headline score with the interval, and its costs.
    static func table(_ report: EvalReport) -> Table {
        guard let first = report.runs.first else { return Table([]) }
        let shown = Distinguishing(report)
        let headlineName = first.headline?.name ?? "score"
        let extraScorers = first.scorers.dropFirst().map(\.name)
        let hasMacroF1 = first.headline?.macroF1 != nil
        var columns: [Table.Column] = []
        if shown.variant { columns.append(.init("VARIANT")) }
        if shown.model { columns.append(.init("MODEL")) }
        if shown.strategy { columns.append(.init("STRATEGY")) }
        columns.append(.init(headlineName.uppercased() + " [95% CI]"))
        if hasMacroF1 { columns.append(.init("MACRO-F1", right: true)) }
        for name in extraScorers { columns.append(.init(name.uppercased(), right: true)) }
        columns += [
            .init("N", right: true), .init("ERR", right: true), .init("PROMPT TOK", right: true),
            .init("COMPL TOK", right: true), .init("P50 MS", right: true), .init("P95 MS", right: true),
            .init("CACHED", right: true), .init("RUN", right: true),
        ]
        var table = Table(columns)
        for (index, run) in report.runs.enumerated() {
            var row: [String] = []
            if shown.variant { row.append(run.variant + (index == report.best && report.runs.count > 1 ? " *" : "")) }
            if shown.model { row.append(run.modelName) }
            if shown.strategy { row.append(run.strategy.label) }
            row.append(run.headline.map { interval($0.interval) } ?? "–")
            if hasMacroF1 { row.append(run.headline?.macroF1.map { number($0) } ?? "–") }
            for scorer in run.scorers.dropFirst() { row.append(number(scorer.interval.estimate)) }
            row += [
                String(run.headline?.count ?? 0), String(run.errors),
                run.meanPromptTokens.map { number($0, digits: 1) } ?? "–",
                run.meanCompletionTokens.map { number($0, digits: 1) } ?? "–",
                run.latencyP50.map { String(Int($0.rounded())) } ?? "–",
                run.latencyP95.map { String(Int($0.rounded())) } ?? "–", percent(run.cachedShare), String(run.run.id),
            ]
            table.add(row)
        }
        return table
    }

    /// What tells the runs of a report apart, and so is shown for each: the variant (also when
    /// nothing else differs), the model, the strategy.
    struct Distinguishing {
        var variant: Bool
        var model: Bool
        var strategy: Bool
        /// Runs read differently are two systems: said in each run's name, never left to the heading.
        var reader: Bool

        init(_ report: EvalReport) {
            model = Set(report.runs.map(\.modelName)).count > 1
            strategy = Set(report.runs.map(\.strategy.label)).count > 1
            reader = Set(report.runs.map(\.reader)).count > 1
            variant = Set(report.runs.map(\.variant)).count > 1 || (!model && !strategy && !reader)
        }
    }

    static func name(_ run: RunReport, in report: EvalReport) -> String {
        let shown = Distinguishing(report)
        var parts: [String] = []
        if shown.variant { parts.append(run.variant) }
        if shown.model { parts.append(run.modelName) }
        if shown.strategy { parts.append(run.strategy.label) }
        if shown.reader { parts.append(readerLabel(run.reader)) }
        return parts.joined(separator: " · ")
    }

    /// The reader as a heading or a run's name says it: `reader generate`, `reader one-token (labels
    /// read from one token's log-probabilities)`.
    static func readerLabel(_ reader: Reader) -> String {
        reader == .generate ? "reader generate" : "reader \(reader.rawValue) (\(reader.summary))"
    }

    static func verdictLines(_ report: EvalReport) -> [String] {
        guard let best = report.best, let headline = report.runs[best].headline else { return [] }
        var lines = [
            "",
            "best: \(name(report.runs[best], in: report)) (run \(report.runs[best].run.id)), \(headline.name) \(interval(headline.interval))",
        ]
        if report.comparisons.count > 1 { lines[1] += "; paired tests against the others, Holm-adjusted:" }
        for (other, comparison) in report.comparisons {
            let sign = comparison.difference >= 0 ? "+" : ""
            var text =
                "  vs \(name(report.runs[other], in: report)): \(sign)\(number(comparison.difference)) on \(comparison.pairs) shared cases"
            if let onlyA = comparison.onlyA, let onlyB = comparison.onlyB {
                text += " (\(onlyA) only best right, \(onlyB) only other right)"
            } else if let interval = comparison.interval {
                text += " [\(number(interval.lower)), \(number(interval.upper))]"
            }
            text += ", \(comparison.method.rawValue) \(pValue(comparison.p))"
            if report.comparisons.count > 1 { text += ", adjusted \(pValue(comparison.adjustedP))" }
            text +=
                comparison.isSignificant ? ": significantly \(comparison.direction)" : ": not a significant difference"
            lines.append(text)
        }
        if report.runs[best].errors > 0 || report.runs.contains(where: { $0.errors > 0 }) {
            lines.append(
                "errors are requests that failed (timeouts, bad answers) or answers no scorer could grade; the score leaves them out, so a run with failed requests is incomplete until pwb eval --resume answers them"
            )
        }
        if let confusion = headline.confusion, let labels = headline.labels, labels.count <= 8 {
            lines.append("")
            lines.append("confusion of the best (rows: expected, columns: answered):")
            var table = Table([.init("")] + (labels + ["(none)"]).map { .init($0, right: true) })
            for (row, label) in labels.enumerated() { table.add([label] + confusion[row].map(String.init)) }
            lines += table.render().map { "  " + $0 }
        }
        return lines
    }

    static func csv(_ rows: [JSONValue]) -> String {
        let header = [
            "run", "variant", "model", "strategy", "case", "sample", "expected", "output", "score", "error",
            "prompt_tokens", "completion_tokens", "latency_ms", "cached",
        ]
        var lines = [header.joined(separator: ",")]
        for row in rows {
            lines.append(
                header.map { key in
                    let value = row[key] ?? .null
                    let text = value == .null ? "" : value.text
                    return CaseExport.csvQuoted(text)
                }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A progress line on standard error: count, rate and time left. Nothing when not a terminal.
@MainActor
final class ProgressBar {
    let output: Output
    let label: String

    init(output: Output, label: String) {
        self.output = output
        self.label = label
    }

    func update(_ progress: EvalProgress, label: String? = nil) {
        guard progress.total > 0 else { return }
        let label = label ?? self.label
        let width = 24
        let filled = min(width, progress.done * width / progress.total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = progress.elapsed > 0 ? Double(progress.done) / progress.elapsed : 0
        let left = rate > 0 ? Double(progress.total - progress.done) / rate : 0
        var text = "\(label) \(bar) \(progress.done)/\(progress.total) · \(String(format: "%.1f", rate))/s"
        if progress.done < progress.total && rate > 0 { text += " · ETA \(Self.clock(left))" }
        if progress.cached > 0 { text += " · \(progress.cached) cached" }
        if progress.errors > 0 { text += " · \(progress.errors) errors" }
        output.progress(text)
    }

    func finish() { output.clearProgress() }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
