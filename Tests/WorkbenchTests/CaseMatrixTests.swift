import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore

@testable import Workbench

/// The case matrix and run details a report page is made from, read back from a real store.
@Suite struct CaseMatrixTests {
    @Test func everyCaseHasEachRunsOutputScoreAndError() async throws {
        // The asked variant answers "negative" to every review (wrong on the positive ones) and
        // is refused on one review; the plain variant is right everywhere.
        let work = try StubWorkspace(
            answer: { prompt in
                prompt.hasPrefix("Is it") ? " negative" : StubWorkspace.keywordAnswer(prompt)
            },
            fault: { request in
                guard let prompt = request.json?["prompt"]?.stringValue, prompt.hasPrefix("Is it"),
                    prompt.contains("terrible battery")
                else { return nil }
                return .json(["error": ["message": "this prompt is refused"]], status: 400)
            })
        let report = try await work.evaluate(work.options())
        #expect(report.runs.map(\.variant) == ["asked", "plain"])
        let matrix = try work.workspace.caseMatrix(report)
        #expect(matrix.rows.map(\.id) == ["r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12"], "the plan's order")
        let first = try #require(matrix.rows.first)
        #expect(first.input == "really good phone" && first.expected == "positive")
        #expect(first.cells[0] == CaseMatrix.Cell(output: " negative", score: 0, error: nil))
        #expect(first.cells[1] == CaseMatrix.Cell(output: " positive", score: 1, error: nil))
        let refused = try #require(matrix.rows.first { $0.id == "r6" }?.cells[0])
        #expect(refused.score == nil && refused.output == nil)
        #expect(refused.error?.contains("this prompt is refused") == true, "\(refused)")

        // The disagreeing cases are McNemar's discordant pairs: the positive reviews (r5, r7, r9,
        // r11), where only plain is right; r6 has no asked score, so it is no pair.
        let disagreeing = matrix.rows.filter { row in Set(row.cells.compactMap { $0?.score }).count > 1 }
        #expect(disagreeing.map(\.id) == ["r5", "r7", "r9", "r11"])
        let comparison = try #require(report.comparisons.first?.comparison)
        #expect((comparison.onlyA ?? 0) + (comparison.onlyB ?? 0) == disagreeing.count)

        let details = try work.workspace.runDetails(report.runs.map(\.run))
        #expect(details.map(\.shownCase) == ["r5", "r5"], "the same case for every run")
        #expect(details[0].request?["prompt"]?.stringValue?.hasPrefix("Is it positive or negative?") == true)
        #expect(details[1].request?["prompt"]?.stringValue?.hasSuffix("Review: really good phone\nSentiment:") == true)
        #expect(details[1].request?["max_tokens"] == 3)
        #expect(details[0].errors.count == 1 && details[0].errors[0].count == 1)
        #expect(details[0].errors[0].message.contains("this prompt is refused"))
        #expect(details[1].errors.isEmpty)
        #expect(details[1].source.contains("Sentiment:") && details[0].source.contains("Answer:"))
    }

    @Test func severalSamplesFoldIntoTheMeanScoreAndTheFirstOutput() async throws {
        // Each prompt is answered rightly the first time it is asked and wrongly the second.
        let asked = Mutex<[String: Int]>([:])
        let work = try StubWorkspace(answer: { prompt in
            let times = asked.withLock {
                $0[prompt, default: 0] += 1
                return $0[prompt]!
            }
            let right = StubWorkspace.keywordAnswer(prompt)
            return times == 1 ? right : (right == " positive" ? " negative" : " positive")
        })
        let report = try await work.evaluate(
            work.options {
                $0.variants = ["plain"]
                $0.repeats = 2
            })
        let matrix = try work.workspace.caseMatrix(report)
        #expect(matrix.rows.count == 8)
        for row in matrix.rows {
            let cell = try #require(row.cells.first ?? nil)
            #expect(row.cells.count == 1 && cell.score == 0.5 && cell.error == nil, "\(row)")
            #expect(cell.output == " positive" || cell.output == " negative")
        }
    }
}
