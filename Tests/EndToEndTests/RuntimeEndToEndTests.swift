import Foundation
import StubRuntime
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `pwb runtime start|status|stop` and `pwb run`, with the real llama-server and model.
@Suite(.serialized)
struct RuntimeEndToEndTests {
    static func freePort() throws -> Int {
        let probe = try StubServer { _ in .drop }
        let port = probe.port
        probe.stop()
        Thread.sleep(forTimeInterval: 0.05)
        return port
    }

    @Test func startStatusRunAndStopTheManagedServer() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        let port = try Self.freePort()
        let started = try await work.pwb("runtime", "start", "--port", String(port), "--slots", "1")
        #expect(started.status == 0, "\(started)")
        #expect(started.stdout.contains("llama-server is running: pid "))
        #expect(
            started.stdout.contains("http://127.0.0.1:\(port), 1 slots × 4096 tokens, model gemma-3-270m-q4_k_m.gguf"))
        defer { work.stopRuntime() }

        let status = try await work.pwb("runtime", "status")
        #expect(status.stdout.contains("managed llama-server: running"), "\(status)")
        #expect(status.stdout.contains("default model: local"))

        let again = try await work.pwb("runtime", "start")
        #expect(again.status == 2)
        #expect(again.stderr.contains("a managed llama-server already runs"), "\(again)")

        let run = try await work.pwb("run", "sentiment/instruction", "--case", "sent-003")
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty, "no runtime was started: \(run)")
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3, "\(run)")
        #expect(run.stdout.contains(" prompt + "), "\(run)")
        #expect(
            run.stdout.range(
                of: #"model: local \(llama\.cpp:gemma-3-270m-q4_k_m\.gguf#[0-9a-f]{16}\)"#, options: .regularExpression)
                != nil, "\(run)")

        let json = try await work.pwb(
            "run", "sentiment/question", "--var", "text=Awful. It broke on day one.", "--json")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(parsed["prompt_tokens"] as? Int ?? 0 > 10)
        let logprobs = try #require(parsed["logprobs"] as? [[String: Any]])
        #expect((logprobs.first?["top"] as? [[String: Any]])?.count == 5)

        let stopped = try await work.pwb("runtime", "stop")
        #expect(stopped.stdout.contains("Stopped llama-server"), "\(stopped)")
        #expect(try await work.pwb("runtime", "status").stdout.contains("managed llama-server: not running"))
    }

    @Test func aCommandThatNeedsAModelStartsTheRuntimeAndSaysSo() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import")
        defer { work.stopRuntime() }
        let run = try await work.pwb("run", "ja-inquiry/instruction", "--case", "ja-001")
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.contains("pwb: started llama-server (pid "), "\(run)")
        #expect(run.stderr.contains("pwb runtime stop ends it"))
        #expect(try await work.pwb("runtime", "status").stdout.contains("running"))
    }

    @Test func aStalePidFileIsRecoveredFrom() async throws {
        let work = try WorkFolder()
        try await work.pwb("init")
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        try work.write(
            ".pwb/runtime.json", #"{"pid": \#(finished.processIdentifier), "port": 1, "model": "m.gguf", "slots": 1}"#)
        let status = try await work.pwb("runtime", "status")
        #expect(
            status.stdout.contains("not running (removed a stale pid file for pid \(finished.processIdentifier))"),
            "\(status)")
        #expect(!FileManager.default.fileExists(atPath: work.path + "/.pwb/runtime.json"))
        #expect(try await work.pwb("runtime", "stop").stdout.contains("No managed llama-server is running."))
    }

    @Test func aPortTakenBySomethingElseIsRefused() async throws {
        let work = try WorkFolder()
        let squatter = try StubServer { _ in .text("not llama") }
        let result = try await work.pwb("runtime", "start", "--port", String(squatter.port))
        #expect(result.status == 2, "\(result)")
        #expect(
            result.stderr.contains(
                "port \(squatter.port) on 127.0.0.1 is taken by another program; choose another with --port"))
        #expect(squatter.requests.isEmpty)
    }

    @Test func noReachableRuntimeExitsWith3AndSaysHowToStartOne() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        let port = try Self.freePort()
        let result = try await work.pwb(
            "run", "sentiment/question", "--var", "text=fine", environment: ["PWB_ENDPOINT": "http://127.0.0.1:\(port)"]
        )
        #expect(result.status == 3, "\(result)")
        #expect(
            result.stderr.contains("no model runtime answers at http://127.0.0.1:\(port) (connection refused)"),
            "\(result)")
        #expect(result.stderr.contains("start one with pwb runtime start"))
    }

    @Test func runSpeaksToAConfiguredOpenAICompatibleServer() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        let stub = try StubServer(model: StubModel { prompt in prompt.contains("Awful") ? " negative" : " positive" })
        try work.write(
            ".pwb/config.json",
            #"{"models": {"remote": {"provider": "openai", "endpoints": ["\#(stub.url.absoluteString)/v1"], "model": "m", "api_key_env": "REMOTE_API_KEY"}}}"#
        )
        let missingKey = try await work.pwb("run", "sentiment/question", "--var", "text=Awful")
        #expect(missingKey.status == 4, "\(missingKey)")
        #expect(missingKey.stderr.contains("REMOTE_API_KEY, which is not set"))
        let result = try await work.pwb(
            "run", "sentiment/question", "--var", "text=Awful", environment: ["REMOTE_API_KEY": "k-123"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix(" negative\n── "), "\(result)")
        #expect(stub.requests(to: "/v1/completions").first?.headers["authorization"] == "Bearer k-123")
        // The key is used, never stored.
        let store = try Data(contentsOf: URL(fileURLWithPath: work.path + "/.pwb/workbench.sqlite"))
        #expect(store.range(of: Data("k-123".utf8)) == nil)
    }

    @Test func runReportsMissingVariablesAsUsage() async throws {
        let work = try WorkFolder(copyingExamples: true)
        try await work.pwb("import", "templates", "evalsets")
        let result = try await work.pwb("run", "sentiment/question")
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("sentiment/question@1 needs {{text}}: give --var text=…, or --case ID"), "\(result)")
    }
}
