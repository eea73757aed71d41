import Foundation
import StubRuntime
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// LoRA adapters on llama-server: loaded unapplied at start, applied by the requests that name them.
@Suite struct AdapterServingTests {
    @Test func adaptersAreLoadedUnappliedAndOnlyWhenThereAreAny() {
        let with = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: "/m.gguf", slots: 2, contextPerSlot: 4096,
            adapters: ["/a/one.gguf", "/a/two.gguf"], metadata: nil)
        #expect(with.containsSequence(["--lora", "/a/one.gguf", "--lora", "/a/two.gguf", "--lora-init-without-apply"]))
        // No host-memory prompt cache beside adapters: it would restore a prompt's state computed
        // through one adapter for a request through another (or none).
        #expect(with.containsSequence(["--cache-ram", "0"]))
        let without = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: "/m.gguf", slots: 2, contextPerSlot: 4096, metadata: nil)
        #expect(!without.contains("--lora") && !without.contains("--lora-init-without-apply"))
        #expect(!without.contains("--cache-ram"), "without adapters the prompt cache is the server's own")
    }

    /// A llama-server that loaded two adapters, at its default global scale of 1.
    static func serverWithAdapters() throws -> StubServer {
        try StubServer(
            model: StubModel { _ in " positive" },
            fault: { request in
                guard request.path == "/lora-adapters" else { return nil }
                return .json([
                    ["id": 0, "path": "/w/.pwb/adapters/a.gguf", "scale": 1],
                    ["id": 1, "path": "/w/.pwb/adapters/b.gguf", "scale": 1],
                ])
            })
    }

    @Test func everyRequestToAServerWithAdaptersStatesEachOnesScale() async throws {
        let server = try Self.serverWithAdapters()
        defer { server.stop() }
        let plain = ModelClient(name: "local", providers: [LlamaCppProvider(endpoint: server.url, http: HTTPClient())])
        let loaded = try await plain.loadedAdapters()
        #expect(loaded.map(\.id) == [0, 1] && loaded.allSatisfy { $0.scale == 1 })
        let base = try #require(plain.serving(loaded))
        func adapter(_ path: String) -> AdapterFile {
            AdapterFile(name: "b", path: path, hash: String(repeating: "ab", count: 32), baseModel: "llama.cpp:m.gguf")
        }
        let tuned = try #require(plain.serving(loaded, applying: adapter("/w/.pwb/adapters/../adapters/b.gguf")))
        #expect(
            plain.serving(loaded, applying: adapter("/elsewhere.gguf")) == nil, "an adapter the server has not loaded")
        #expect(tuned.identity.description == "llama.cpp:local+lora:\(String(repeating: "ab", count: 8))@1")
        #expect(tuned.base.identity == plain.identity, "the base model's identity names no adapter")
        var request = CompletionRequest(prompt: .text("Review: fine\nSentiment:"), maxTokens: 3)
        // Whatever the caller set, the client states what the server must apply.
        request.lora = [LoraScale(id: 0, scale: 1)]
        let answered = try await base.complete(request)
        _ = try await tuned.complete(request)
        _ = try await tuned.base.complete(request)
        request.prompt = .chat([ChatMessage(role: "user", content: "fine?")])
        _ = try await tuned.complete(request)
        let bodies = server.requests.filter { $0.method == "POST" }.compactMap(\.json)
        #expect(bodies.count == 4)
        let none: JSONValue = [["id": 0, "scale": 0], ["id": 1, "scale": 0]]
        #expect(bodies[0]["lora"] == none, "a base request states every adapter at 0, not the server's 1")
        #expect(bodies[1]["lora"] == [["id": 0, "scale": 0], ["id": 1, "scale": 1]])
        #expect(bodies[2]["lora"] == none, "the tuned client's base is the base model")
        #expect(bodies[3]["lora"] == [["id": 0, "scale": 0], ["id": 1, "scale": 1]], "chat too")
        #expect(answered.lora == [LoraScale(id: 0, scale: 0), LoraScale(id: 1, scale: 0)], "kept with the answer")
        // Not part of the cache key: the ids change from one server start to the next.
        var other = request
        other.lora = [LoraScale(id: 1, scale: 1)]
        #expect(request.canonicalJSON == other.canonicalJSON)
    }

    @Test func aServerWithoutAdaptersIsAskedWithoutAnyScales() async throws {
        let server = try StubServer(model: StubModel { _ in " positive" })
        defer { server.stop() }
        let client = ModelClient(name: "local", providers: [LlamaCppProvider(endpoint: server.url, http: HTTPClient())])
        #expect(try await client.loadedAdapters().isEmpty, "no /lora-adapters route: none loaded")
        _ = try await client.complete(CompletionRequest(prompt: .text("Sentiment:"), maxTokens: 3))
        #expect(server.requests.last?.json?["lora"] == nil)
    }

    @Test func theRecordedAdaptersSurviveReadingBack() throws {
        var info = RuntimeInfo(
            pid: 42, port: 8181, model: "/m.gguf", slots: 2, contextPerSlot: 4096, binary: "/bin/llama-server",
            startedAt: "now")
        info.adapters = ["/w/.pwb/adapters/a.gguf"]
        #expect(RuntimeInfo(json: info.json)?.adapters == ["/w/.pwb/adapters/a.gguf"])
    }
}
