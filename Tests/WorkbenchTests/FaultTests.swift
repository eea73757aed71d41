import Foundation
import ModelRuntime
import StubRuntime
import Testing
import WorkbenchCore
import WorkbenchStore

@testable import Workbench

/// A full disk: the command fails with a store error, the file stays sound, nothing is half
/// written, and once there is room again the evaluation completes without a case twice.
@Suite struct DiskFullTests {
    @Test func aStoreThatFillsUpMidEvalStaysSoundAndTheRunResumes() async throws {
        // Answers of some 4 KiB each, so every result needs pages of its own.
        let work = try StubWorkspace(answer: {
            StubWorkspace.keywordAnswer($0) + String(repeating: " filler", count: 600)
        })
        let database = work.workspace.store.database
        let pages = try #require(try database.queryFirst("PRAGMA page_count") { $0.int(0) })
        // Room for the runs and a few results, not for all 16.
        _ = try database.queryFirst("PRAGMA max_page_count = \(pages + 6)") { $0.int(0) }
        var options = work.options { $0.useCache = false }
        options.concurrency = 1
        var caught: (any Error)?
        do {
            _ = try await work.evaluate(options)
        } catch {
            caught = error
        }
        let failure = try #require(caught as? StoreError, "\(String(describing: caught))")
        #expect(failure.code & 0xFF == 13, "SQLITE_FULL: \(failure)")
        #expect(failure.isFull)
        #expect(failure.description.hasPrefix("the store \(work.workspace.storePath) cannot grow"), "\(failure)")
        #expect(try database.queryFirst("PRAGMA integrity_check") { $0.text(0) } == "ok")
        _ = try database.queryFirst("PRAGMA max_page_count = 1073741823") { $0.int(0) }
        let runs = try work.workspace.store.runListings(limit: 10)
        let run = try #require(runs.last?.run, "the runs were made before the disk filled")
        let stored = runs.map(\.done).reduce(0, +)
        #expect(stored > 0 && stored < 16, "it filled mid-eval, after \(stored) results")
        #expect(runs.allSatisfy { $0.run.status != .running }, "not left running")
        let resumed = try await work.workspace.resume(runID: run.id, environment: work.environment)
        #expect(resumed.runs.allSatisfy { $0.scored == 8 && $0.run.status == .completed })
        let duplicates = try database.queryFirst(
            "SELECT COUNT(*) FROM (SELECT run_id, case_id, sample FROM results GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)"
        ) { $0.int(0) }
        #expect(duplicates == 0)
    }
}
