import ModelRuntime
import Testing
import WorkbenchCore

@testable import Workbench
@testable import WorkbenchCLI

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
}
