import ModelRuntime
import Testing
import WorkbenchCore

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

    @Test func aServerErrorIsStillARuntimeFailure() {
        let error = ModelError.status(code: 503, url: "http://gpu1:8000/v1", message: "busy", retryAfter: nil)
        #expect(CLI.classify(error).0 == ExitCode.runtimeUnavailable)
    }
}
