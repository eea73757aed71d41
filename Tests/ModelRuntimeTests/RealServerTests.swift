import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// Starts the real `llama-server` with the default model (installed by `make test`'s set-up)
/// once for the suite, on a free port, and stops it afterwards.
struct RealLlamaServer: SuiteTrait, TestScoping {
    @TaskLocal static var endpoint: URL?

    @concurrent func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @concurrent @Sendable () async throws -> Void
    ) async throws {
        let folder = NSTemporaryDirectory() + "pwb-real-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = ManagedServer(
            stateDirectory: folder, environment: ProcessInfo.processInfo.environment, http: HTTPClient())
        let info = try await server.start(model: nil, port: ManagedServer.freePort(), slots: 2, contextPerSlot: 2048)
        do {
            try await RealLlamaServer.$endpoint.withValue(info.endpoint) { try await function() }
        } catch {
            _ = try? await server.stop()
            throw error
        }
        _ = try await server.stop()
    }
}

extension Trait where Self == RealLlamaServer {
    static var realLlamaServer: RealLlamaServer { RealLlamaServer() }
}

@Suite(.realLlamaServer, .serialized)
struct RealServerTests {
    let http = HTTPClient()
    var provider: LlamaCppProvider { LlamaCppProvider(endpoint: RealLlamaServer.endpoint!, http: http) }

    static let fewShot = """
        Review: The food was cold and the waiter was rude.
        Sentiment: negative

        Review: Loved every minute, great staff!
        Sentiment: positive

        Review: Terrible battery, it died within an hour.
        Sentiment:
        """

    @Test func reportsItsContextAndSlots() async throws {
        let properties = try await provider.properties(timeout: 10)
        #expect(properties.contextSize == 2048)
        #expect(properties.slots == 2)
        #expect(properties.model?.hasSuffix("gemma-3-270m-q4_k_m.gguf") == true)
    }

    @Test func completesAFewShotPromptWithTheLabel() async throws {
        let completion = try await provider.complete(
            CompletionRequest(prompt: .text(Self.fewShot), maxTokens: 3, stop: ["\n"]), timeout: 60)
        #expect(completion.text.trimmingWhitespace() == "negative")
        #expect(completion.finishReason == .stop)
        #expect(completion.serverTimings?.promptMilliseconds != nil)
    }

    @Test func countsTheSameTokensAsTheCompletionReports() async throws {
        let tokens = try #require(try await provider.tokenCount(Self.fewShot, timeout: 10))
        let completion = try await provider.complete(
            CompletionRequest(prompt: .text(Self.fewShot), maxTokens: 2, stop: ["\n"]), timeout: 60)
        #expect(completion.promptTokens == tokens)
        #expect((1...2).contains(completion.completionTokens ?? 0))
        let japanese = try #require(try await provider.tokenCount("配送はいつになりますか？", timeout: 10))
        #expect(japanese > 2 && japanese < 20)
    }

    @Test func givesTopLogprobsForTheLabelToken() async throws {
        let completion = try await provider.complete(
            CompletionRequest(prompt: .text(Self.fewShot), maxTokens: 1, topLogprobs: 10), timeout: 60)
        let first = try #require(completion.logprobs?.first)
        #expect(first.top.count == 10)
        let negative = try #require(first.top.first { $0.token.trimmingWhitespace() == "negative" })
        let positive = try #require(first.top.first { $0.token.trimmingWhitespace() == "positive" })
        #expect(negative.logprob > positive.logprob)
        #expect(first.top.map { exp($0.logprob) }.reduce(0, +) <= 1.0001)
    }

    @Test func answersChatCompletionsThroughItsOpenAIEndpoint() async throws {
        let chat = CompletionRequest(
            prompt: .chat([ChatMessage(role: "user", content: "Name one colour.")]), maxTokens: 8, topLogprobs: 2)
        let completion = try await provider.complete(chat, timeout: 60)
        #expect(!completion.text.isEmpty)
        #expect(completion.promptTokens ?? 0 > 3)
        #expect(completion.logprobs?.first?.top.count == 2)
        // The OpenAI-compatible provider on the same server gives the same raw completion.
        let openAI = OpenAIProvider(
            endpoint: RealLlamaServer.endpoint!.appendingPathComponent("v1"), model: nil, apiKey: nil, http: http)
        let raw = CompletionRequest(prompt: .text(Self.fewShot), maxTokens: 3, stop: ["\n"])
        let viaOpenAI = try await openAI.complete(raw, timeout: 60)
        #expect(viaOpenAI.text.trimmingWhitespace() == "negative")
        #expect(viaOpenAI.promptTokens == (try await provider.tokenCount(Self.fewShot, timeout: 10)))
    }

    @Test func refusesAPromptLongerThanTheContextBeforeSending() async throws {
        let client = ModelClient(name: "real", providers: [provider])
        let long = CompletionRequest(prompt: .text(String(repeating: "word ", count: 3000)), maxTokens: 16)
        let error = await #expect(throws: ModelError.self) { try await client.checkFits(long, contextSize: 2048) }
        guard case .promptTooLong(let tokens, _, let context, _)? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(tokens > 2048)
        #expect(context == 2048)
        // Sent anyway, the server's own refusal is recognized as the same error.
        let sent = await #expect(throws: ModelError.self) { try await client.complete(long) }
        if case .promptTooLong? = sent {
        } else {
            Issue.record("server refusal not recognized: \(String(describing: sent))")
        }
    }
}

/// Two workspaces starting their servers at once can both find a port free; the one that loses
/// the race must start on another port, not fail.
struct ManagedServerPortRaceTests {
    @Test func aPortTakenBetweenTheCheckAndTheBindIsChosenAgain() async throws {
        let folder = NSTemporaryDirectory() + "pwb-race-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The real llama-server, behind a wrapper whose first start fails as llama-server does when
        // another process bound the port first.
        let real = try ManagedServer(
            stateDirectory: folder, environment: ProcessInfo.processInfo.environment, http: HTTPClient()
        ).binaryPath()
        let wrapper = folder + "/llama-server"
        try """
        #!/bin/sh
        echo start >> "\(folder)/starts"
        if [ "$(wc -l < "\(folder)/starts")" -eq 1 ]; then
          echo "start: couldn't bind HTTP server socket, hostname: 127.0.0.1" >&2
          exit 1
        fi
        exec "\(real)" "$@"
        """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["PWB_LLAMA_SERVER"] = wrapper
        let server = ManagedServer(stateDirectory: folder + "/state", environment: environment, http: HTTPClient())
        let info = try await server.start(model: nil, port: nil, slots: 1, contextPerSlot: 1024)
        let starts = try String(contentsOfFile: folder + "/starts", encoding: .utf8)
        #expect(starts.split(separator: "\n").count == 2, "started again after the lost race")
        await #expect(throws: Never.self) {
            try await LlamaCppProvider(endpoint: info.endpoint, http: HTTPClient()).health(timeout: 5)
        }
        _ = try await server.stop()
    }
}

/// The real llama-server behind a wrapper script that runs it as a child, without `exec`: pwb
/// knows the wrapper's pid, the server holds the port. It is found healthy, its memory is the
/// group's, and stop ends it with the wrapper.
struct ManagedServerWrapperTests {
    @Test func aWrapperWithoutExecAroundTheRealServerIsHealthyAndStopLeavesNothing() async throws {
        let folder = NSTemporaryDirectory() + "pwb-wrapper-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let real = try ManagedServer(
            stateDirectory: folder, environment: ProcessInfo.processInfo.environment, http: HTTPClient()
        ).binaryPath()
        let wrapper = folder + "/llama-server"
        try "#!/bin/sh\n\"\(real)\" \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        var environment = ProcessInfo.processInfo.environment
        environment["PWB_LLAMA_SERVER"] = wrapper
        let server = ManagedServer(stateDirectory: folder + "/state", environment: environment, http: HTTPClient())
        let port = ManagedServer.freePort()
        let info = try await server.start(model: nil, port: port, slots: 1, contextPerSlot: 1024, healthTimeout: 60)
        defer { kill(-info.pid, SIGKILL) }
        let group = ManagedServer.members(ofGroup: info.pid)
        let servers = group.filter { ManagedServer.commandLine(pid: $0).first == real }
        #expect(servers.count == 1 && servers[0] != info.pid, "the server is the wrapper's child: \(group)")
        #expect((ManagedServer.residentBytes(group: info.pid) ?? 0) > 100 << 20, "the model's memory counts")
        await #expect(throws: Never.self) {
            try await LlamaCppProvider(endpoint: info.endpoint, http: HTTPClient()).health(timeout: 5)
        }
        #expect(try await server.stop(grace: 10)?.pid == info.pid)
        #expect(ManagedServer.members(ofGroup: info.pid).isEmpty, "left running: \(group)")
        #expect(!ManagedServer.isListening(port: port))
    }
}
