import Foundation
import StubRuntime
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// A regex scorer whose pattern backtracks catastrophically stops the evaluation with an error
/// naming the pattern, within a bounded time, instead of holding the actor Ctrl-C needs forever.
@Suite struct RegexBoundTests {
    @Test func aCatastrophicPatternStopsTheEvalNamingIt() async throws {
        // (a+)+$ on forty a's and a b tries 2^40 ways before it fails.
        let work = try StubWorkspace(
            answer: { _ in " " + String(repeating: "a", count: 40) + "b" },
            settings: #"{"scorers": [{"type": "regex", "pattern": "(a+)+$"}], "input": "text"}"#)
        let started = Date()
        let error = await #expect(throws: InputError.self) {
            try await work.evaluate(work.options { $0.variants = ["plain"] })
        }
        #expect(Date().timeIntervalSince(started) < 30, "bounded, not the hours the match would take")
        let text = error?.description ?? ""
        #expect(text.contains("evalsets/reviews.json"), "\(text)")
        #expect(text.contains(#"the regex pattern "(a+)+$" took longer than"#), "\(text)")
        #expect(text.contains("nested repetition"), "\(text)")
        let runs = try work.workspace.store.runListings(limit: 10)
        #expect(runs.allSatisfy { $0.run.status == .interrupted }, "not left running")
        let cached = try work.workspace.store.database.queryFirst("SELECT COUNT(*) FROM responses") { $0.int(0) }
        #expect((cached ?? 0) > 0, "the answer that was scored is kept in the cache")
    }

    @Test func aSoundPatternStillScores() async throws {
        let work = try StubWorkspace(
            settings: #"{"scorers": [{"type": "regex", "pattern": "^\\s*(positive|negative)$"}], "input": "text"}"#)
        let report = try await work.evaluate(work.options { $0.variants = ["plain"] })
        #expect(report.runs[0].scored == 8)
        #expect(report.runs[0].headline?.interval.estimate == 1)
    }
}
