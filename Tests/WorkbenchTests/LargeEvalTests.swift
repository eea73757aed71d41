import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// Evaluations larger than the part the engine reads, renders and scores at a time.
@Suite struct LargeEvalTests {
    /// `count` dev cases (every third says "good") and four train cases, as JSONL.
    static func reviews(_ count: Int) -> String {
        let train = [
            #"{"id": "t1", "vars": {"text": "good food"}, "expected": "positive", "split": "train"}"#,
            #"{"id": "t2", "vars": {"text": "awful and slow"}, "expected": "negative", "split": "train"}"#,
            #"{"id": "t3", "vars": {"text": "good value"}, "expected": "positive", "split": "train"}"#,
            #"{"id": "t4", "vars": {"text": "broken lid"}, "expected": "negative", "split": "train"}"#,
        ]
        let dev = (1...count).map { index in
            let good = index % 3 == 0
            return
                #"{"id": "d\#(index)", "vars": {"text": "\#(good ? "good" : "poor") item \#(index)"}, "expected": "\#(good ? "positive" : "negative")", "split": "dev"}"#
        }
        return (train + dev).joined(separator: "\n")
    }

    @Test func aStopAskedWhileTheCasesAreCheckedEndsTheEvaluationBeforeAnyRunIsMade() async throws {
        let work = try StubWorkspace(extraFiles: ["evalsets/reviews.jsonl": Self.reviews(EvalExecution.partSize + 10)])
        let stop = StopRequest()
        stop.request()
        await #expect(throws: CancellationError.self) {
            try await work.evaluate(work.options(), stop: stop)
        }
        #expect(try work.workspace.store.runListings(limit: 10).isEmpty, "no run left behind to resume")
        #expect(work.completions.isEmpty)
    }

    @Test func anEvalSetOfSeveralPartsIsScoredWholeEachRequestOnce() async throws {
        let count = EvalExecution.partSize + 300
        let work = try StubWorkspace(
            slots: 2, extraFiles: ["evalsets/reviews.jsonl": Self.reviews(count)])
        let progress = ProgressLog()
        let report = try await work.evaluate(
            work.options {
                $0.useCache = false
                $0.strategy = Strategy(shots: 2, selection: .similar)
            }, progress: { progress.add($0) })
        #expect(report.runs.count == 2)
        for run in report.runs {
            #expect(run.planned == count && run.scored == count)
            #expect(run.run.status == .completed)
            #expect(run.headline?.interval.estimate == 1, "each case's own examples and answer, across the parts")
            let results = try work.workspace.store.results(runID: run.run.id)
            #expect(Set(results.map(\.caseID)).count == count)
        }
        #expect(work.completions.count == 2 * count, "each request sent once")
        // One count of the whole evaluation, not of a part.
        #expect(progress.totals == [2 * count])
        #expect(progress.lastDone == 2 * count)
    }
}

/// Progress reports, kept from the engine's callback.
final class ProgressLog: Sendable {
    private let reports = Mutex<[EvalProgress]>([])

    func add(_ progress: EvalProgress) { reports.withLock { $0.append(progress) } }

    var totals: Set<Int> { reports.withLock { Set($0.map(\.total)) } }

    var lastDone: Int? { reports.withLock { $0.last?.done } }
}
