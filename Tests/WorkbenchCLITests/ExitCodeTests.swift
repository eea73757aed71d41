import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime
@testable import Workbench
@testable import WorkbenchCLI
@testable import WorkbenchStore

/// Each kind of failure has its own documented exit code.
@MainActor
struct ExitCodeTests {
    struct Unforeseen: Error {}

    @Test func anUnforeseenErrorIsAnInternalErrorNotAFailedCheck() {
        let (code, message) = CLI.classify(Unforeseen())
        #expect(code == ExitCode.internalError)
        #expect(code != ExitCode.failed)
        #expect(message.hasPrefix("internal error: ") && message.contains("this is a bug in pwb"))
    }

    @Test(arguments: [401, 403, 404])
    func aServerRefusingTheConfigurationIsAUsageErrorWithTheFix(_ status: Int) {
        let error = ModelError.status(
            code: status, url: "http://gpu1:8000/v1/completions", message: "nope", retryAfter: nil)
        let (code, message) = CLI.classify(error)
        #expect(code == ExitCode.usage)
        #expect(message.contains("http://gpu1:8000/v1/completions answered HTTP \(status): nope; check"))
        #expect(message.contains(".pwb/config.json"))
    }

    /// A run another process scores is locked as a store another process writes is: the same
    /// code, 5, and the sentence says why.
    @Test func aRunInUseIsTheStoresCodeAndSaysWhy() {
        let (code, message) = CLI.classify(RunInUse(runID: 3, holder: "4242"))
        #expect(code == ExitCode.storeFailure)
        #expect(message.contains("run 3 is being scored by another pwb process (pid 4242)"), "\(message)")
        #expect(message.contains("holds it locked, as a writer holds the store"), "\(message)")
    }

    @Test func aServerErrorIsStillARuntimeFailure() {
        let error = ModelError.status(code: 503, url: "http://gpu1:8000/v1", message: "busy", retryAfter: nil)
        #expect(CLI.classify(error).0 == ExitCode.runtimeUnavailable)
    }

    @Test func aRefusalIsAUsageErrorWithItsSettingsAndCommandsWordedForTheCommandLine() {
        let refusal = Refusal(
            "eval set s has no test cases; choose another \(setting: "split") (\(command: "evalset show s"))")
        #expect(refusal.description == "eval set s has no test cases; choose another split (pwb evalset show s)")
        let (code, message) = CLI.classify(refusal)
        #expect(code == ExitCode.usage)
        #expect(message == "eval set s has no test cases; choose another --split (pwb evalset show s)")
        let server = ManagedServerError(message: "stop it with \(command: "runtime stop")", unavailable: false)
        #expect(CLI.classify(server).1 == "stop it with pwb runtime stop")
    }

    /// Each error type states its own code; these are the codes the README documents for them.
    @Test func everyErrorTypeStatesTheCodeDocumentedForIt() {
        let url = URL(string: "http://gpu1:8000/v1")!
        let stated: [(any Error, Int32)] = [
            (UsageError("no"), ExitCode.usage),
            (Refusal("no such split"), ExitCode.usage),
            (InputError(file: "cases.jsonl", line: 3, "bad"), ExitCode.badInput),
            (StoreVersionError(path: "s.db", found: 9, known: 8), ExitCode.badInput),
            (CheckFailed("below"), ExitCode.failed),
            (StoreError(code: 13, message: "full"), ExitCode.storeFailure),
            (RunInUse(runID: 1, holder: "1"), ExitCode.storeFailure),
            (Interrupted(message: "stopped"), ExitCode.interrupted),
            (Silent(code: 3), 3),
            (RuntimeStopped(message: "gone"), ExitCode.runtimeUnavailable),
            (UnansweredRequests(cause: .configuration, failed: 1, planned: 2, run: 1, caseName: "a", error: "e"), 2),
            (UnansweredRequests(cause: .input, failed: 1, planned: 2, run: 1, caseName: "a", error: "e"), 4),
            (UnansweredRequests(cause: .runtime, failed: 1, planned: 2, run: 1, caseName: "a", error: "e"), 3),
            (IncompleteRung(rung: "zero-shot", failed: 1, planned: 2, cause: .input), ExitCode.badInput),
            (RuntimeUnavailable(endpoints: ["http://x"], reason: "down"), ExitCode.runtimeUnavailable),
            (TrainerError(message: "no torch"), ExitCode.runtimeUnavailable),
            (TrainingStopped(finished: []), ExitCode.interrupted),
            (HostedFineTuneStopped(job: "j", url: "u", cancelled: false, resume: "r"), ExitCode.interrupted),
            (FineTuningError.jobCancelled(job: "j", url: "u"), ExitCode.runtimeUnavailable),
            (ManagedServerError(message: "no llama-server", unavailable: true), ExitCode.runtimeUnavailable),
            (ManagedServerError(message: "bad port", unavailable: false), ExitCode.usage),
            (ModelError.promptTooLong(tokens: 9, maxTokens: 8, contextSize: 8, url: "u"), ExitCode.badInput),
            (ModelError.status(code: 404, url: "u", message: "m", retryAfter: nil), ExitCode.usage),
            (ModelError.status(code: 500, url: "u", message: "m", retryAfter: nil), ExitCode.runtimeUnavailable),
            (TransportError(url: url, reason: .closedWithoutAnswer), ExitCode.runtimeUnavailable),
            (CancellationError(), ExitCode.interrupted),
            (CocoaError(.fileReadNoSuchFile), ExitCode.badInput),
        ]
        for (error, code) in stated {
            #expect(CLI.classify(error).0 == code, "\(type(of: error))")
        }
    }

    @Test func aLockedStoreSaysToWaitOrUseAnotherStore() {
        let (code, message) = CLI.classify(StoreError(code: 5, message: "database is locked"))
        #expect(code == ExitCode.storeFailure)
        #expect(message == "the store is locked by another pwb process; wait for it to finish, or use another --db")
    }
}
