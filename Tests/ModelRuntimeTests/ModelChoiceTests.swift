import Foundation
import Testing
import WorkbenchCore

@testable import ModelRuntime

/// How a model is chosen, what it is known as, and what its server can do.
@Suite struct ModelChoiceTests {
    @Test(
        arguments: [
            (nil, ModelChoice.automatic), ("local", .managed), ("vllm", .configured("vllm")),
            ("Local", .configured("Local")),
        ] as [(String?, ModelChoice)])
    func aNameParsesToOneChoice(name: String?, choice: ModelChoice) {
        #expect(ModelChoice(name) == choice)
    }

    @Test func theManagedChoiceSelectsNoConfiguredModel() throws {
        let text = #"{"models": {"vllm": {"provider": "openai", "endpoint": "http://127.0.0.1:8000/v1"}}}"#
        let configuration = try RuntimeConfiguration(parsing: text, path: "config.json", environment: [:])
        #expect(try configuration.select(.managed) == nil)
        #expect(try configuration.select(.automatic)?.name == "vllm", "the only model is the default")
        #expect(try configuration.select(.configured("vllm"))?.name == "vllm")
    }

    @Test func anIdentityRendersAsTheCacheHasIt() {
        let base = ModelIdentity(kind: .llamaCpp, served: "gemma.gguf", fingerprint: "0123456789abcdef")
        #expect(base.description == "llama.cpp:gemma.gguf#0123456789abcdef")
        let tuned = base.applying(ModelIdentity.Adapter(hash: String(repeating: "f", count: 64)))
        #expect(tuned.description == "llama.cpp:gemma.gguf#0123456789abcdef+lora:ffffffffffffffff@1")
        #expect(tuned.base == base)
        #expect(ModelIdentity(kind: .ollama, served: "gemma3:270m").description == "ollama:gemma3:270m")
    }

    @Test func eachProviderStatesWhatItCanDo() {
        let url = URL(string: "http://127.0.0.1:9")!
        let http = HTTPClient()
        let llama = ModelClient(name: "l", providers: [LlamaCppProvider(endpoint: url, http: http)])
        #expect(llama.capabilities.isSuperset(of: [.namesSlots, .appliesAdapters, .tokenizes]))
        let openAI = ModelClient(
            name: "o", providers: [OpenAIProvider(endpoint: url, model: "m", apiKey: nil, http: http)])
        #expect(!openAI.capabilities.contains(.namesSlots) && openAI.capabilities.contains(.logprobs))
        let mixed = ModelClient(
            name: "m",
            providers: [
                LlamaCppProvider(endpoint: url, http: http), OllamaProvider(endpoint: url, model: "m", http: http),
            ])
        #expect(!mixed.capabilities.contains(.namesSlots), "a client can do what every endpoint can")
    }
}
