import Foundation
import Workbench
import WorkbenchCore

/// The lines under an eval table that read each score against its baseline: chance and the
/// majority label with a binomial test and collapse for label tasks, the trivial-answer floor
/// for scorers that give partial credit.
enum BaselineRendering {
    static func lines(_ report: EvalReport) -> [String] {
        var lines: [String] = []
        let baselines = report.runs.compactMap { run in run.headline?.baseline.map { (run, $0) } }
        if let (_, first) = baselines.first {
            var heading =
                "baseline (\(first.labelCount) labels, \(first.trials) cases): chance \(number(first.chance))"
                + ", majority \(number(first.majorityRate))"
            if let label = first.majorityLabel { heading += " ('\(label)')" }
            heading += "; \(baselines.count > 1 ? "each run is" : "the run is") tested against \(first.referenceName):"
            lines.append(heading)
            for (run, baseline) in baselines {
                var text = "  \(ReportRendering.name(run, in: report)): \(number(baseline.score)), \(baseline.verdict)"
                if baseline.referenceRate != first.referenceRate || baseline.trials != first.trials {
                    text += " (against \(number(baseline.referenceRate)) on \(baseline.trials) cases)"
                }
                if let collapse = baseline.collapseSentence { text += "; \(collapse)" }
                lines.append(text)
            }
        }
        if let first = report.runs.first {
            let floors = first.scorers.compactMap { scorer in
                scorer.floor.map { floor in
                    "\(scorer.name) \(number(floor.score)) (\(floor.answer == .input ? "copying the input" : "an empty answer"))"
                }
            }
            if !floors.isEmpty {
                lines.append(
                    "trivial-answer floor over \(first.run.plan.count) cases: " + floors.joined(separator: ", "))
            }
        }
        return lines.isEmpty ? [] : [""] + lines
    }

    static func number(_ value: Double) -> String { ReportRendering.number(value) }
}
