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
        let without = ManagedServer.launchArguments(
            binary: "/bin/llama-server", port: 8181, model: "/m.gguf", slots: 2, contextPerSlot: 4096, metadata: nil)
        #expect(!without.contains("--lora") && !without.contains("--lora-init-without-apply"))
    }

    @Test func aRequestNamesItsAdaptersAndABaseRequestNamesNone() async throws {
        let server = try StubServer(model: StubModel { _ in " positive" })
        defer { server.stop() }
        let provider = LlamaCppProvider(endpoint: server.url, http: HTTPClient())
        var request = CompletionRequest(prompt: .text("Review: fine\nSentiment:"), maxTokens: 3)
        _ = try await provider.complete(request, timeout: 10)
        request.lora = [LoraScale(id: 1, scale: 1)]
        _ = try await provider.complete(request, timeout: 10)
        request.prompt = .chat([ChatMessage(role: "user", content: "fine?")])
        _ = try await provider.complete(request, timeout: 10)
        let bodies = server.requests.compactMap(\.json)
        #expect(bodies.count == 3)
        #expect(bodies[0]["lora"] == nil, "the base model: the server's own setting, scale 0")
        #expect(bodies[1]["lora"] == [["id": 1, "scale": 1]])
        #expect(bodies[2]["lora"] == [["id": 1, "scale": 1]], "chat goes through the same server's chat route")
        // Not part of the cache key: the ids change from one server start to the next.
        var other = request
        other.lora = [LoraScale(id: 0, scale: 1)]
        #expect(request.canonicalJSON == other.canonicalJSON)
    }

    @Test func theRecordedAdaptersSurviveReadingBack() throws {
        var info = RuntimeInfo(
            pid: 42, port: 8181, model: "/m.gguf", slots: 2, contextPerSlot: 4096, binary: "/bin/llama-server",
            startedAt: "now")
        info.adapters = ["/w/.pwb/adapters/a.gguf"]
        #expect(RuntimeInfo(json: info.json)?.adapters == ["/w/.pwb/adapters/a.gguf"])
    }
}
