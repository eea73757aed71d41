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
        let failed = try work.workspace.store.failedRequestsByKind(runID: run.run.id)
        #expect(failed.map(\.count) == [7])
        #expect(failed.first?.first.error.contains("HTTP 400") == true)

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

/// llama-server's answer to a prompt longer than its context.
private let overflow = StubReply.json(
    [
        "error": [
            "code": 400, "type": "exceed_context_size_error",
            "message": "the request exceeds the available context size (4096 tokens), try increasing it",
        ]
    ], status: 400)

private func prompt(_ request: StubRequest) -> String { request.json?["prompt"]?.stringValue ?? "" }

/// A failed request keeps why it failed, and the reason decides what the user is told to fix.
@Suite struct FailureKindTests {
    @Test func aPromptTheServerFindsTooLongIsBadInputNamingTheCase() async throws {
        let work = try StubWorkspace(fault: { request in
            request.path == "/completion" && prompt(request).contains("bad screen") ? overflow : nil
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(report.runs[0].failedRequests == 1)
        let failed = try #require(
            try work.workspace.store.results(runID: report.runs[0].run.id).first { $0.error != nil })
        #expect(failed.errorKind == .promptTooLong)
        let unanswered = try #require(try work.workspace.unansweredRequests(in: report))
        #expect(unanswered.cause == .input)
        #expect(unanswered.caseName == "r8", "the case of \"bad screen\"")
        #expect(unanswered.description.contains("refused case r8 because its prompt does not fit"), "\(unanswered)")
        #expect(unanswered.description.contains("use fewer examples or passages"), "\(unanswered)")
    }

    @Test func aServerThatFailsIsTheRuntimesAndRanksAfterATooLongPrompt() async throws {
        let work = try StubWorkspace(fault: { request in
            guard request.path == "/completion" else { return nil }
            if prompt(request).contains("terrible battery") { return .status(503, "overloaded") }
            if prompt(request).contains("it leaks") { return overflow }
            return nil
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        let results = try work.workspace.store.results(runID: report.runs[0].run.id)
        #expect(Set(results.compactMap(\.errorKind)) == Set<ResultRecord.ErrorKind>([.noAnswer, .promptTooLong]))
        let unanswered = try #require(try work.workspace.unansweredRequests(in: report))
        #expect(unanswered.cause == .input, "the input must be fixed whatever the runtime does")
        #expect(unanswered.failed == 2)

        let only503 = try StubWorkspace(fault: { request in
            request.path == "/completion" && prompt(request).contains("terrible battery")
                ? .status(503, "overloaded") : nil
        })
        let other = try await only503.evaluate(only503.options { $0.variants = ["plain"] })
        let runtime = try #require(try only503.workspace.unansweredRequests(in: other))
        #expect(runtime.cause == .runtime)
        #expect(runtime.description.contains("1 of 8 requests got no answer (the first:"), "\(runtime)")
        #expect(runtime.description.contains("answered HTTP 503: overloaded"), "\(runtime)")
    }

    @Test func aFailureStoredBeforeKindsIsReadByItsSentence() async throws {
        let work = try StubWorkspace(fault: { request in
            request.path == "/completion" && prompt(request).contains("rude staff") ? .status(404, "no model") : nil
        })
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        // As an older pwb stored it: no kind.
        try work.workspace.store.database.execute("UPDATE results SET error_kind = NULL")
        let unanswered = try #require(try work.workspace.unansweredRequests(in: report))
        #expect(unanswered.cause == .configuration)
        #expect(unanswered.caseName == "r10")
    }
}
