import Foundation
import WorkbenchCore
import WorkbenchStore

/// Every case of a report's runs side by side: its input, the expected answer and each run's
/// output and score. What a reader opens a report for: which cases changed, and what was said.
package struct CaseMatrix: Sendable {
    /// One run's answer to one case; several samples are folded into the first output and the
    /// mean score.
    package struct Cell: Sendable, Hashable {
        package var output: String?
        /// Mean headline score over the samples that were scored; nil when every request failed.
        package var score: Double?
        /// The first error, kept only when no sample was scored.
        package var error: String?

        package init(output: String?, score: Double?, error: String?) {
            self.output = output
            self.score = score
            self.error = error
        }
    }

    package struct Row: Sendable, Hashable {
        /// The case's id in its eval set.
        package var id: String
        /// The eval set's `input` variable, the only variable, or every variable as `name: value` lines.
        package var input: String
        package var expected: JSONValue
        /// One per run of the report, in its order; nil where the run has no result for the case.
        package var cells: [Cell?]

        package init(id: String, input: String, expected: JSONValue, cells: [Cell?]) {
            self.id = id
            self.input = input
            self.expected = expected
            self.cells = cells
        }
    }

    package var rows: [Row]

    package init(rows: [Row]) { self.rows = rows }

    /// What a case's input reads as: the eval set's `input` variable (or one named `input`), the
    /// only variable, or all of them as `name: value` lines in name order.
    package static func input(of vars: [String: JSONValue], inputVariable: String? = nil) -> String {
        if let value = inputVariable.flatMap({ vars[$0] }) ?? vars["input"] { return value.text }
        if vars.count == 1, let only = vars.first { return only.value.text }
        return vars.keys.sorted().map { "\($0): \(vars[$0]!.text)" }.joined(separator: "\n")
    }
}

/// How one run was made, for the report's "what was run": the prompt file, the request sent for
/// one case, the errors with their messages.
package struct RunDetails: Sendable {
    package var runID: Int
    package var provider: String
    /// The revision's prompt file as stored (front matter and body).
    package var source: String
    /// The case whose request is shown, by its id in the eval set.
    package var shownCase: String?
    /// The request sent for that case: prompt or messages and sampling, as the engine stored it.
    package var request: JSONValue?
    /// Distinct error messages, the most frequent first.
    package var errors: [(message: String, count: Int)]
}

extension Workspace {
    /// The case matrix of a report's runs: the cases of the first run's plan in its order, then any
    /// case only a later run planned.
    package func caseMatrix(_ report: EvalReport) throws -> CaseMatrix {
        var order: [Int] = []
        var seen = Set<Int>()
        for run in report.runs {
            for id in run.run.plan where seen.insert(id).inserted { order.append(id) }
        }
        var cells = [[Int: CaseMatrix.Cell]](repeating: [:], count: report.runs.count)
        for (index, run) in report.runs.enumerated() {
            var sums: [Int: (sum: Double, count: Int)] = [:]
            try store.forEachResult(runID: run.run.id) { result in
                var cell = cells[index][result.caseID] ?? CaseMatrix.Cell(output: nil, score: nil, error: nil)
                if cell.output == nil { cell.output = result.output }
                if let score = result.score {
                    sums[result.caseID, default: (0, 0)].sum += score
                    sums[result.caseID, default: (0, 0)].count += 1
                } else if cell.error == nil {
                    cell.error = result.error
                }
                cells[index][result.caseID] = cell
            }
            for (caseID, total) in sums {
                cells[index][caseID]?.score = total.sum / Double(total.count)
                cells[index][caseID]?.error = nil
            }
        }
        let cases = try store.cases(rowIDs: order)
        let inputVariable = try report.runs.first.map { try evalset(id: $0.run.evalsetID).settings.input } ?? nil
        return CaseMatrix(
            rows: order.map { rowID in
                let evalCase = cases[rowID]?.evalCase
                return CaseMatrix.Row(
                    id: evalCase?.id ?? String(rowID),
                    input: evalCase.map { CaseMatrix.input(of: $0.vars, inputVariable: inputVariable) } ?? "",
                    expected: evalCase?.expected ?? .null, cells: cells.map { $0[rowID] })
            })
    }

    /// How each run was made. The request shown is for the same case in every run where they
    /// share one: the first planned case that every run answered.
    package func runDetails(_ runs: [RunRecord]) throws -> [RunDetails] {
        var keys: [[Int: String]] = []
        var errors: [[String: Int]] = []
        for run in runs {
            var runKeys: [Int: String] = [:]
            var runErrors: [String: Int] = [:]
            try store.forEachResult(runID: run.id) { result in
                if result.sample == 0, let key = result.responseKey { runKeys[result.caseID] = key }
                if let error = result.error { runErrors[error, default: 0] += 1 }
            }
            keys.append(runKeys)
            errors.append(runErrors)
        }
        let shared = runs.first?.plan.first { id in keys.allSatisfy { $0[id] != nil } }
        return try runs.enumerated().map { index, run in
            let caseID = shared ?? run.plan.first { keys[index][$0] != nil }
            let request = try caseID.flatMap { keys[index][$0] }.flatMap { try store.responseRequest(key: $0) }
            let shownCase = try caseID.flatMap { try store.cases(rowIDs: [$0])[$0]?.evalCase.id }
            return RunDetails(
                runID: run.id, provider: run.provider, source: try store.revision(id: run.revisionID)?.source ?? "",
                shownCase: request == nil ? nil : shownCase, request: request,
                errors: errors[index].sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                    .map { (message: $0.key, count: $0.value) })
        }
    }
}
