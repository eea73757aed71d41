import Foundation
import ModelRuntime
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// Requests that got no answer never vanish: the run stays incomplete and resumable.
@Suite struct FailedRequestTests {
    @Test func aRunWithFailedRequestsIsIncompleteAndResumeRetriesThem() async throws {
        let refusing = Mutex(true)
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion", refusing.withLock({ $0 }),
                let prompt = request.json?["prompt"]?.stringValue, !prompt.contains("good sound")
            else { return nil }
            return .json(["error": ["message": "the sampler is misconfigured"]], status: 400)
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let run = report.runs[0]
        #expect(run.scored == 1)
        #expect(run.failedRequests == 7)
        #expect(run.run.status == .interrupted, "a run whose requests failed is not completed")
        #expect(try work.workspace.run(id: run.run.id).status == .interrupted)
        #expect(try work.workspace.store.firstFailedRequest(runID: run.run.id)?.contains("HTTP 400") == true)

        refusing.withLock { $0 = false }
        let asked = work.completions.count
        let resumed = try await work.workspace.resume(runID: run.run.id, environment: work.environment)
        #expect(work.completions.count == asked + 7, "only the failed cases are asked again")
        #expect(resumed.runs[0].scored == 8)
        #expect(resumed.runs[0].errors == 0)
        #expect(resumed.runs[0].run.status == .completed)
    }

    @Test func answersNoScorerCouldGradeDoNotKeepARunIncomplete() async throws {
        // The judge answers with a label, not a grade: every answer is unscorable, but every
        // request was answered, so the run is complete.
        let work = try StubWorkspace(
            settings: #"{"scorers": [{"type": "rubric", "rubric": "Names the sentiment in one word."}]}"#)
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(report.runs[0].errors == 8)
        #expect(report.runs[0].failedRequests == 0)
        #expect(report.runs[0].run.status == .completed)
    }
}

/// One evaluation, one process: a second one resuming it is refused.
@Suite struct RunLeaseTests {
    @Test func aRunBeingScoredElsewhereIsNotResumedTwice() async throws {
        let work = try StubWorkspace(fault: { request in
            request.path == "/completion" && request.json?["prompt"]?.stringValue?.contains("bad screen") == true
                ? .status(503, "busy") : nil
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let run = report.runs[0].run
        #expect(run.status == .interrupted)
        // Another process holds the batch (a second open file description, as a second pwb has).
        var holder: RunLease? = try RunLease(storePath: work.workspace.storePath, batch: run.batch, runID: run.id)
        let asked = work.completions.count
        let error = await #expect(throws: RunInUse.self) {
            try await work.workspace.resume(runID: run.id, environment: work.environment)
        }
        #expect(
            error?.description.contains("run \(run.id) is being scored by another pwb process (pid \(getpid()))")
                == true)
        #expect(work.completions.count == asked, "nothing was sent")
        #expect(try work.workspace.store.results(runID: run.id).count == 8, "nothing was deleted")
        holder = nil
        _ = holder
        let resumed = try await work.workspace.resume(runID: run.id, environment: work.environment)
        #expect(resumed.runs[0].failedRequests == 1, "the server still refuses that case")
    }
}
