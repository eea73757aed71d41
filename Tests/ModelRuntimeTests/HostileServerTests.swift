import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// Every provider against a hostile or broken server: each misbehaviour ends in an error that
/// names the URL (or in a usable answer), never a crash, never a hang, never unbounded memory.
struct HostileServerTests {
    static let model = StubModel { _ in " ok" }
    let request = CompletionRequest(prompt: .text("hello"), maxTokens: 2)

    /// The four providers against `server`, each through a client with quick retries.
    func clients(_ server: StubServer, timeout: Double = 10) -> [ModelClient] {
        let http = HTTPClient()
        let providers: [any ModelProvider] = [
            LlamaCppProvider(endpoint: server.url, http: http),
            OpenAIProvider(endpoint: server.url.appendingPathComponent("v1"), model: "stub", apiKey: nil, http: http),
            OllamaProvider(endpoint: server.url, model: "stub", http: http),
            AzureOpenAIProvider(
                endpoint: server.url, deployment: "stub", apiVersion: "2024-10-21", apiKey: nil, http: http),
        ]
        return providers.map {
            ModelClient(
                name: "hostile", providers: [$0], timeout: timeout,
                retry: RetryPolicy(attempts: 2, baseDelay: 0.01, maxDelay: 0.02))
        }
    }

    /// The hostile replies whose outcome is an error naming the endpoint, with words it must say.
    static let failing: [(String, StubReply, String)] = [
        ("negative chunk size", .chunkSize("-1"), "a bad chunk size"),
        ("huge chunk size", .chunkSize("7fffffffffffffff"), "larger than the 64 MiB"),
        ("huge Content-Length", .declaredLength(100_000_000_000), "larger than the 64 MiB"),
        ("an endless body", .oversized(bytes: 80 << 20), "larger than the 64 MiB"),
        ("a bad Content-Length", .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n".utf8)), "Content-Length"),
        ("not HTTP", .raw(Array("SSH-2.0-OpenSSH\r\n".utf8)), "not HTTP"),
        ("a body cut short", .closeMidBody, "truncated"),
        ("a server error", .status(500, "out of memory"), "answered HTTP 500: out of memory"),
        ("a client error", .status(422, "bad sampler"), "answered HTTP 422: bad sampler"),
        (
            "an endless header", .stream(head: Array("HTTP/1.1 200 OK\r\nX: ".utf8), filler: 65, count: 1 << 20),
            "longer than"
        ),
    ]

    @Test(arguments: failing.indices)
    func aHostileAnswerIsAnErrorNamingTheURL(_ index: Int) async throws {
        let (name, reply, words) = Self.failing[index]
        let server = try StubServer(model: Self.model) { request in request.method == "POST" ? reply : nil }
        defer { server.stop() }
        for client in clients(server) {
            let error = await #expect(throws: (any Error).self, "\(name), \(client.kind)") {
                try await client.complete(request)
            }
            let text = String(describing: error.map { $0 as Any } ?? "")
            #expect(text.contains(server.url.absoluteString), "\(name), \(client.kind): \(text)")
            #expect(text.contains(words), "\(name), \(client.kind): \(text)")
        }
    }

    @Test func absurdTimingsAndCountsAreAnErrorNotATrap() async throws {
        let server = try StubServer(model: Self.model) { request in
            request.path == "/completion"
                ? .json([
                    "content": " ok", "tokens_predicted": 1, "stop_type": "eos",
                    "timings": ["prompt_ms": 1e300, "predicted_ms": 2],
                ]) : nil
        }
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self) { try await clients(server)[0].complete(request) }
        #expect(error?.description.contains("\(server.url.absoluteString) sent an answer pwb cannot read") == true)
        #expect(error?.description.contains("timings.prompt_ms") == true, "\(String(describing: error))")
    }

    /// Numbers a server sends that size what pwb builds (slots become lanes of requests, the
    /// context bounds what fits, token counts are summed over every case), each far outside what
    /// a server could mean: an error naming the URL, never an allocation or an overflow.
    static let absurdNumbers: [(ProviderKind, String, JSONValue, String)] = [
        (.llamaCpp, "/props", ["total_slots": 1e12, "default_generation_settings": ["n_ctx": 4096]], "slots"),
        (.llamaCpp, "/props", ["total_slots": 0, "default_generation_settings": ["n_ctx": 4096]], "slots"),
        (.llamaCpp, "/props", ["total_slots": 2, "default_generation_settings": ["n_ctx": 1e15]], "context"),
        (.llamaCpp, "/props", ["total_slots": 2, "n_ctx": -4096], "context"),
        (.openAI, "/v1/models", ["data": [["id": "stub", "max_model_len": 1e13]]], "context"),
        (.ollama, "/api/show", ["model_info": ["stub.context_length": -1]], "context"),
    ]

    @Test(arguments: absurdNumbers.indices)
    func absurdServerNumbersAreAnErrorNamingTheURL(_ index: Int) async throws {
        let (kind, path, answer, words) = Self.absurdNumbers[index]
        let server = try StubServer(model: Self.model) { request in request.path == path ? .json(answer) : nil }
        defer { server.stop() }
        let client = try #require(clients(server).first { $0.kind == kind })
        let error = await #expect(throws: ModelError.self, "\(kind) \(answer)") { try await client.properties() }
        let text = error?.description ?? ""
        #expect(text.contains(server.url.absoluteString) && text.contains(words), "\(text)")
    }

    @Test func aTokenCountNoPromptCouldHaveIsAnErrorNotAnOverflowLater() async throws {
        let server = try StubServer(model: Self.model) { request in
            request.path == "/completion"
                ? .json(["content": " ok", "tokens_evaluated": 8e15, "tokens_predicted": 1, "stop_type": "eos"]) : nil
        }
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self) { try await clients(server)[0].complete(request) }
        #expect(error?.description.contains("prompt token count") == true, "\(String(describing: error))")
    }

    @Test func aNumberBeyondADoubleIsNotJSON() async throws {
        let server = try StubServer(model: Self.model) { request in
            request.path == "/completion" ? .raw(Self.http(#"{"content": " ok", "tokens_predicted": 1e400}"#)) : nil
        }
        defer { server.stop() }
        let error = await #expect(throws: ModelError.self) { try await clients(server)[0].complete(request) }
        #expect(error?.description.contains("a number too large") == true, "\(String(describing: error))")
    }

    @Test func retryAfterThatIsNotANumberOfSecondsDoesNotTrap() async throws {
        for value in ["nan", "inf", "-3", "1e400", "soon"] {
            let count = Counter()
            let server = try StubServer(model: Self.model) { request in
                request.path == "/completion" && count.next() == 0 ? .rateLimited(retryAfter: value) : nil
            }
            let started = Date()
            let completion = try await clients(server)[0].complete(request)
            #expect(completion.text == " ok", "Retry-After: \(value)")
            #expect(Date().timeIntervalSince(started) < 60, "Retry-After: \(value) is not a two-minute wait")
            server.stop()
        }
    }

    @Test func interimAnswersAreSkipped() async throws {
        let server = try StubServer(model: Self.model) { request in .interim(Self.model.reply(request)) }
        defer { server.stop() }
        for client in clients(server) {
            #expect(try await client.complete(request).text == " ok", "\(client.kind)")
        }
    }

    @Test func invalidUTF8AndControlBytesComeBackAsText() async throws {
        let bytes: [UInt8] = [0xFF, 0xFE, 0x41, 0x1B, 0x5B, 0x32, 0x4A, 0xC3]
        let server = try StubServer(model: Self.model) { request in
            request.path == "/completion" ? .content(bytes: bytes) : nil
        }
        defer { server.stop() }
        // Either a readable error naming the URL or text (Swift strings are always valid UTF-8).
        do {
            let completion = try await clients(server)[0].complete(request)
            #expect(completion.text.contains("A"))
        } catch let error as ModelError {
            #expect(error.description.contains(server.url.absoluteString))
        }
    }

    @Test func aTricklingServerTimesOutOnTheWholeAnswerNotTheSilence() async throws {
        let server = try StubServer(model: Self.model) { request in
            .trickled(["content": .string(String(repeating: "x", count: 4000))], interval: 0.05)
        }
        defer { server.stop() }
        let started = Date()
        let error = await #expect(throws: ModelError.self) {
            try await clients(server, timeout: 0.4)[0].complete(request)
        }
        #expect(Date().timeIntervalSince(started) < 20, "two tries of 0.4 s, not the 50 s the trickle takes")
        #expect(error?.description.contains("did not answer within") == true, "\(String(describing: error))")
    }

    @Test func aHungServerTimesOut() async throws {
        let server = try StubServer(model: Self.model) { _ in .hang }
        defer { server.stop() }
        for client in clients(server, timeout: 0.2) {
            let error = await #expect(throws: ModelError.self) { try await client.complete(request) }
            #expect(error?.description.contains(server.url.absoluteString) == true)
        }
    }

    static func http(_ body: String) -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }
}
