import Foundation
import WorkbenchCore

/// Ollama's native API: raw prompts to `/api/generate`, messages to `/api/chat`.
package struct OllamaProvider: ModelProvider {
    package let kind = ProviderKind.ollama
    package let capabilities: ProviderCapabilities = [.logprobs, .constrainsChoice]
    package let endpoint: URL
    package let model: String
    private let transport: JSONTransport

    package init(endpoint: URL, model: String, http: any HTTPTransport) {
        self.endpoint = endpoint
        self.model = model
        self.transport = JSONTransport(http: http, base: endpoint)
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> Completion {
        var options: [String: JSONValue] = [
            "num_predict": .number(Double(request.maxTokens)), "temperature": .number(request.temperature),
        ]
        options.merge(request.samplingFields) { _, set in set }
        var body: [String: JSONValue] = ["model": .string(model), "stream": false, "options": .object(options)]
        let path: String
        switch request.prompt {
        case .text(let prompt):
            path = "/api/generate"
            body["prompt"] = .string(prompt)
            body["raw"] = true
        case .chat(let messages):
            path = "/api/chat"
            body["messages"] = .array(messages.map(\.json))
        }
        if let choice = request.choice { body["format"] = ChoiceConstraint.schema(choice) }
        if request.topLogprobs > 0 {
            body["logprobs"] = true
            body["top_logprobs"] = .number(Double(request.topLogprobs))
        }
        let (answer, latency) = try await transport.generate(
            path, .object(body), maxTokens: request.maxTokens, timeout: timeout)
        guard var text = answer["response"]?.stringValue ?? answer["message"]?["content"]?.stringValue else {
            throw ModelError.malformed(
                url: transport.url(path).absoluteString, detail: "no \"response\" or \"message\"")
        }
        if request.choice != nil { text = ChoiceConstraint.unwrap(text) }
        return Completion(
            text: text, promptTokens: answer["prompt_eval_count"]?.intValue,
            completionTokens: answer["eval_count"]?.intValue, latencyMilliseconds: latency,
            finishReason: FinishReason(answer["done_reason"]?.stringValue),
            logprobs: request.topLogprobs > 0 ? answer["logprobs"]?.tokenLogprobs() : nil,
            serverTimings: ServerTimings(ollama: answer), endpoint: endpoint.absoluteString, model: model)
    }

    package func tokenCount(_ text: String, timeout: Double) async throws -> Int? { nil }

    package func properties(timeout: Double) async throws -> ServerProperties {
        let (answer, _) = try await transport.post("/api/show", ["model": .string(model)], timeout: timeout)
        let info = answer["model_info"]?.objectValue ?? [:]
        let context = info.first(where: { $0.key.hasSuffix(".context_length") })?.value.intValue
        // The digest changes when a tag is pulled again: a new model under the same name.
        let (tags, _) = try await transport.get("/api/tags", timeout: timeout)
        let entry = tags["models"]?.arrayValue?.first {
            $0["name"]?.stringValue == model || $0["model"]?.stringValue == model
                || $0["name"]?.stringValue == model + ":latest"
        }
        return ServerProperties(
            contextSize: context, slots: nil, model: model, digest: entry?["digest"]?.stringValue)
    }

    package func health(timeout: Double) async throws {
        _ = try await transport.get("/api/tags", timeout: timeout)
    }
}
