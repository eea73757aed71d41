import Foundation
import StubRuntime
import Synchronization
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// Each provider against the stub speaking its wire format.
struct ProviderTests {
    static let model = StubModel(
        firstTokenProbabilities: { _ in [(" positive", -0.2), (" negative", -1.8), (" neutral", -3.0)] },
        answer: { prompt in prompt.contains("great") ? " positive" : " negative" })

    func providers(_ server: StubServer, http: HTTPClient) -> [any ModelProvider] {
        [
            LlamaCppProvider(endpoint: server.url, http: http),
            OpenAIProvider(
                endpoint: server.url.appendingPathComponent("v1"), model: "stub", apiKey: "sk-test", http: http),
            OllamaProvider(endpoint: server.url, model: "stub", http: http),
        ]
    }

    @Test func everyProviderCompletesARawPromptWithTokensAndLogprobs() async throws {
        let server = try StubServer(model: Self.model)
        for provider in providers(server, http: HTTPClient()) {
            let request = CompletionRequest(
                prompt: .text("Review: a great phone\nSentiment:"), maxTokens: 3, stop: ["\n"], seed: 7, topLogprobs: 2)
            let completion = try await provider.complete(request, timeout: 30)
            #expect(completion.text == " positive", "\(provider.kind)")
            #expect(completion.promptTokens != nil, "\(provider.kind)")
            #expect(completion.completionTokens == 1, "\(provider.kind)")
            #expect(completion.finishReason == .stop, "\(provider.kind)")
            #expect(completion.latencyMilliseconds > 0)
            let first = try #require(completion.logprobs?.first, "\(provider.kind)")
            #expect(first.token == " positive")
            #expect(first.top.map(\.token) == [" positive", " negative"], "\(provider.kind)")
            #expect(abs(first.top[1].logprob - -1.8) < 1e-9)
        }
        let paths = server.requests.map(\.path)
        #expect(paths == ["/completion", "/v1/completions", "/api/generate"])
        // What each wire format carries: the sampling parameters and, for OpenAI, the key.
        let llama = try #require(server.requests(to: "/completion").first?.json)
        #expect(llama["n_predict"] == 3 && llama["n_probs"] == 2 && llama["seed"] == 7 && llama["cache_prompt"] == true)
        let openAI = try #require(server.requests(to: "/v1/completions").first)
        #expect(openAI.headers["authorization"] == "Bearer sk-test")
        #expect(openAI.json?["max_tokens"] == 3 && openAI.json?["stop"] == ["\n"])
        let ollama = try #require(server.requests(to: "/api/generate").first?.json)
        #expect(ollama["raw"] == true && ollama["options"]?["num_predict"] == 3 && ollama["options"]?["seed"] == 7)
    }

    @Test func everyProviderSendsChatMessages() async throws {
        let server = try StubServer(model: Self.model)
        let request = CompletionRequest(
            prompt: .chat([
                ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "great?"),
            ]),
            maxTokens: 4, topLogprobs: 1)
        for provider in providers(server, http: HTTPClient()) {
            let completion = try await provider.complete(request, timeout: 30)
            #expect(completion.text == " positive", "\(provider.kind)")
            #expect(completion.logprobs?.first?.token == " positive", "\(provider.kind)")
        }
        #expect(server.requests.map(\.path) == ["/v1/chat/completions", "/v1/chat/completions", "/api/chat"])
        #expect(server.requests[0].json?["messages"]?.arrayValue?.count == 2)
    }

    @Test func llamaCppReportsPropertiesAndCountsTokens() async throws {
        let server = try StubServer(model: StubModel(contextSize: 2048, slots: 3) { _ in "x" })
        let provider = LlamaCppProvider(endpoint: server.url, http: HTTPClient())
        let properties = try await provider.properties(timeout: 30)
        #expect(properties == ServerProperties(contextSize: 2048, slots: 3, model: "/models/stub-model.gguf"))
        #expect(try await provider.tokenCount("one two three", timeout: 30) == 4)
        try await provider.health(timeout: 30)
    }
}

/// Faults: each gets a clear outcome, never a hang or a silent wrong answer.
struct FaultTests {
    static let model = StubModel { _ in " ok" }
    static let quickRetries = RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.05)

    func client(_ server: StubServer, timeout: Double = 30, retry: RetryPolicy = quickRetries) -> ModelClient {
        ModelClient(
            name: "stub", providers: [LlamaCppProvider(endpoint: server.url, http: HTTPClient())], timeout: timeout,
            retry: retry)
    }

    let request = CompletionRequest(prompt: .text("hello"), maxTokens: 2)

    @Test func aSlowServerTimesOutWithinTheLimit() async throws {
        let server = try StubServer(model: Self.model) { _ in .delayed(10, .json(["content": "late"])) }
        let started = Date()
        let error = await #expect(throws: ModelError.self) { try await client(server, timeout: 0.3).complete(request) }
        #expect(Date().timeIntervalSince(started) < 8)
        guard case .timedOut(let url, let seconds)? = error else {
            Issue.record("not a timeout: \(String(describing: error))")
            return
        }
        #expect(url.hasSuffix("/completion"))
        #expect(seconds == 0.3)
    }

    @Test func serverErrorsAreRetriedAndThenSucceed() async throws {
        let count = Counter()
        let server = try StubServer(model: Self.model) { request in
            request.path == "/completion" && count.next() < 2 ? .json(["error": "busy"], status: 503) : nil
        }
        let completion = try await client(server).complete(request)
        #expect(completion.text == " ok")
        #expect(server.requests(to: "/completion").count == 3)
    }

    @Test func rateLimitsHonourRetryAfter() async throws {
        let count = Counter()
        let server = try StubServer(model: Self.model) { request in
            count.next() == 0 ? .json(["error": "slow down"], status: 429, headers: [("Retry-After", "1")]) : nil
        }
        let started = Date()
        let completion = try await client(server).complete(request)
        #expect(completion.text == " ok")
        #expect(Date().timeIntervalSince(started) >= 1.0)
        #expect(server.requests.count == 2)
    }

    @Test func otherClientErrorsAreNotRetried() async throws {
        let server = try StubServer(model: Self.model) { _ in .json(["error": ["message": "bad sampler"]], status: 400)
        }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(server.requests.count == 1)
        #expect(error?.description.contains("answered HTTP 400: bad sampler") == true)
    }

    @Test func aMalformedBodyIsAnErrorNamingTheEndpoint() async throws {
        let server = try StubServer(model: Self.model) { _ in .text("{\"content\": \"unclosed", status: 200) }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(
            error?.description.contains("\(server.url.absoluteString)/completion sent an answer pwb cannot read")
                == true)
        #expect(error?.description.contains("not JSON") == true)
    }

    @Test func aJSONAnswerWithoutContentIsAnError() async throws {
        let server = try StubServer(model: Self.model) { _ in .json(["something": "else"]) }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(error?.description.contains("no \"content\" field") == true)
    }

    @Test func aTruncatedBodyIsAnErrorNamingTheEndpoint() async throws {
        let server = try StubServer(model: Self.model) { _ in .truncated(["content": "a long answer that is cut"]) }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        #expect(
            error?.description.contains("/completion sent an answer pwb cannot read (truncated") == true,
            "\(String(describing: error))")
    }

    @Test func aServerThatDiesMidRequestIsSurvived() async throws {
        let count = Counter()
        let server = try StubServer(model: Self.model) { _ in count.next() == 0 ? .drop : nil }
        #expect(try await client(server).complete(request).text == " ok")
        #expect(server.requests.count == 2)
    }

    @Test func aServerThatStaysDownIsUnavailable() async throws {
        let server = try StubServer(model: Self.model) { _ in .drop }
        let error = await #expect(throws: RuntimeUnavailable.self) { try await client(server).complete(request) }
        #expect(server.requests.count == 3)
        #expect(error?.description.contains("start one with pwb runtime start") == true)
    }

    @Test func nothingListeningIsUnavailable() async throws {
        let server = try StubServer(model: Self.model)
        let url = server.url
        server.stop()
        let client = ModelClient(
            name: "gone", providers: [LlamaCppProvider(endpoint: url, http: HTTPClient())], retry: Self.quickRetries)
        let error = await #expect(throws: RuntimeUnavailable.self) { try await client.complete(request) }
        #expect(error?.endpoints == [url.absoluteString])
        #expect(error?.reason.contains("refused") == true, "\(String(describing: error))")
    }

    @Test func aPromptLongerThanTheContextIsReportedBeforeSending() async throws {
        let server = try StubServer(model: StubModel(contextSize: 10) { _ in "x" })
        let long = CompletionRequest(prompt: .text("one two three four five six seven eight"), maxTokens: 4)
        let client = client(server)
        let error = await #expect(throws: ModelError.self) { try await client.checkFits(long, contextSize: 10) }
        #expect(error == .promptTooLong(tokens: 9, maxTokens: 4, contextSize: 10, url: server.url.absoluteString))
        #expect(server.requests(to: "/completion").isEmpty)
        #expect(
            try await client.checkFits(CompletionRequest(prompt: .text("short"), maxTokens: 4), contextSize: 10) == 2)
    }

    @Test func aContextOverflowAnswerIsRecognized() async throws {
        let server = try StubServer(model: Self.model) { _ in
            .json(
                [
                    "error": [
                        "message": "the request exceeds the available context size (2048 tokens), try increasing it"
                    ]
                ],
                status: 400)
        }
        let error = await #expect(throws: ModelError.self) { try await client(server).complete(request) }
        guard case .promptTooLong(_, _, let context, _)? = error else {
            Issue.record("not recognized: \(String(describing: error))")
            return
        }
        #expect(context == 2048)
    }

    @Test func cancellingARequestAbandonsItPromptly() async throws {
        let server = try StubServer(model: Self.model) { _ in .delayed(10, .json(["content": "late"])) }
        let client = client(server, timeout: 30)
        let task = Task { try await client.complete(request) }
        try await Task.sleep(for: .milliseconds(200))
        let started = Date()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

/// Several endpoints serving one model.
struct EndpointTests {
    @Test func requestsSpreadByLeastInFlight() async throws {
        let model = StubModel { _ in " ok" }
        let slow = try StubServer(model: model) { request in .delayed(0.2, model.reply(request)) }
        let fast = try StubServer(model: model) { request in .delayed(0.2, model.reply(request)) }
        let http = HTTPClient()
        let client = ModelClient(
            name: "two",
            providers: [
                LlamaCppProvider(endpoint: slow.url, http: http), LlamaCppProvider(endpoint: fast.url, http: http),
            ])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { _ = try await client.complete(CompletionRequest(prompt: .text("x"), maxTokens: 1)) }
            }
            try await group.waitForAll()
        }
        #expect(slow.requests.count == 4)
        #expect(fast.requests.count == 4)
    }

    @Test func aDownEndpointIsSkippedForTheOthers() async throws {
        let model = StubModel { _ in " ok" }
        let down = try StubServer(model: model)
        let downURL = down.url
        down.stop()
        let up = try StubServer(model: model)
        let http = HTTPClient()
        let client = ModelClient(
            name: "two",
            providers: [
                LlamaCppProvider(endpoint: downURL, http: http), LlamaCppProvider(endpoint: up.url, http: http),
            ],
            retry: RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.02))
        for _ in 0..<4 {
            #expect(try await client.complete(CompletionRequest(prompt: .text("x"), maxTokens: 1)).text == " ok")
        }
        #expect(up.requests(to: "/completion").count == 4)
    }
}

/// A thread-safe counter for stub fault scripts.
final class Counter: Sendable {
    private let value = Mutex(0)

    /// The count before this call.
    func next() -> Int {
        value.withLock { count in
            defer { count += 1 }
            return count
        }
    }
}

/// Answers that never come or are cut short are retried, on another endpoint when there is one.
struct FailoverTests {
    let request = CompletionRequest(prompt: .text("hello"), maxTokens: 2)

    @Test func aHungEndpointOfSeveralFailsOver() async throws {
        let model = StubModel { _ in " ok" }
        let hung = try StubServer(model: model) { request in request.path == "/completion" ? .hang : nil }
        let up = try StubServer(model: model)
        let http = HTTPClient()
        let client = ModelClient(
            name: "two",
            providers: [
                LlamaCppProvider(endpoint: hung.url, http: http), LlamaCppProvider(endpoint: up.url, http: http),
            ],
            timeout: 0.3, retry: RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.02))
        for _ in 0..<3 {
            #expect(try await client.complete(request).text == " ok")
        }
        #expect(up.requests(to: "/completion").count == 3)
        hung.stop()
    }

    @Test func aTruncatedAnswerIsAskedAgain() async throws {
        let count = Counter()
        let server = try StubServer(model: StubModel { _ in " ok" }) { request in
            request.path == "/completion" && count.next() == 0 ? .truncated(["content": "cut short here"]) : nil
        }
        let client = ModelClient(
            name: "one", providers: [LlamaCppProvider(endpoint: server.url, http: HTTPClient())],
            retry: RetryPolicy(attempts: 3, baseDelay: 0.01, maxDelay: 0.02))
        #expect(try await client.complete(request).text == " ok")
        #expect(server.requests(to: "/completion").count == 2)
    }

    @Test func anEndpointThatHangsEveryTimeIsNotWaitedForForever() async throws {
        let server = try StubServer(model: StubModel { _ in " ok" }) { _ in .hang }
        let client = ModelClient(
            name: "one", providers: [LlamaCppProvider(endpoint: server.url, http: HTTPClient())], timeout: 0.2,
            retry: RetryPolicy(attempts: 6, baseDelay: 0.01, maxDelay: 0.02))
        let error = await #expect(throws: ModelError.self) { try await client.complete(request) }
        #expect(server.requests.count == 2, "one more try, not six")
        #expect(error?.description.contains("did not answer within") == true)
        server.stop()
    }
}
