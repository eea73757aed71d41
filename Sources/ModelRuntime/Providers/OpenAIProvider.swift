import Foundation
import WorkbenchCore

/// An OpenAI-compatible server: `/chat/completions` and `/completions` under a base URL that
/// ends in `/v1` (vLLM, LM Studio, llama.cpp, Ollama's `/v1`, hosted APIs).
package struct OpenAIProvider: ModelProvider {
    package let kind = ProviderKind.openAI
    package let capabilities: ProviderCapabilities = [.logprobs, .constrainsChoice]
    package let endpoint: URL
    package let model: String?
    private let transport: JSONTransport

    /// - Parameter apiKey: sent as a bearer token; read from the environment by the caller.
    package init(endpoint: URL, model: String?, apiKey: String?, http: any HTTPTransport) {
        self.endpoint = endpoint
        self.model = model
        self.transport = JSONTransport(http: http, base: endpoint, apiKey: apiKey)
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> Completion {
        let (path, body) = OpenAIProvider.wire(request, model: model)
        let (answer, latency) = try await transport.generate(
            path, body, maxTokens: request.maxTokens, timeout: timeout)
        return try OpenAIProvider.completion(
            answer, request: request, url: transport.url(path).absoluteString, latency: latency,
            endpoint: endpoint.absoluteString)
    }

    /// The path (`/chat/completions` or `/completions`) and body that ask for `request`, in the
    /// wire format OpenAI defined and Azure OpenAI shares.
    /// - Parameter model: the `model` field; nil leaves it out (a server with one model, or
    ///   Azure, where the deployment in the path names it).
    static func wire(_ request: CompletionRequest, model: String?) -> (path: String, body: JSONValue) {
        var body: [String: JSONValue] = [
            "max_tokens": .number(Double(request.maxTokens)), "temperature": .number(request.temperature),
            "stream": false,
        ]
        if let model { body["model"] = .string(model) }
        body.merge(request.samplingFields) { _, set in set }
        // llama-server's OpenAI-compatible routes take its per-request adapters too.
        if let lora = request.lora { body["lora"] = LoraScale.json(lora) }
        switch request.prompt {
        case .text(let prompt):
            body["prompt"] = .string(prompt)
            if request.topLogprobs > 0 { body["logprobs"] = .number(Double(request.topLogprobs)) }
            // A raw completion has no response format; vLLM's guided choice constrains it.
            if let choice = request.choice { body["guided_choice"] = .array(choice.map { .string($0) }) }
            return ("/completions", .object(body))
        case .chat(let messages):
            body["messages"] = .array(messages.map(\.json))
            if request.topLogprobs > 0 {
                body["logprobs"] = true
                body["top_logprobs"] = .number(Double(request.topLogprobs))
            }
            if let choice = request.choice { body["response_format"] = ChoiceConstraint.responseFormat(choice) }
            return ("/chat/completions", .object(body))
        }
    }

    /// The completion in an answer of either route; `url` names the route in errors.
    static func completion(
        _ answer: JSONValue, request: CompletionRequest, url: String, latency: Double, endpoint: String
    ) throws -> Completion {
        guard let choice = answer["choices"]?.arrayValue?.first else {
            throw ModelError.malformed(url: url, detail: "no \"choices\"")
        }
        guard var text = choice["message"]?["content"]?.stringValue ?? choice["text"]?.stringValue else {
            throw ModelError.malformed(url: url, detail: "the first choice has no text")
        }
        if request.choice != nil, case .chat = request.prompt { text = ChoiceConstraint.unwrap(text) }
        return Completion(
            text: text, promptTokens: answer["usage"]?["prompt_tokens"]?.intValue,
            completionTokens: answer["usage"]?["completion_tokens"]?.intValue, latencyMilliseconds: latency,
            finishReason: FinishReason(choice["finish_reason"]?.stringValue),
            logprobs: request.topLogprobs > 0 ? OpenAIProvider.logprobs(choice["logprobs"]) : nil,
            serverTimings: ServerTimings(llamaCpp: answer["timings"]), endpoint: endpoint,
            model: answer["model"]?.stringValue)
    }

    /// Chat's `{content: [{token, logprob, top_logprobs}]}`, or the completions API's legacy
    /// `{tokens, token_logprobs, top_logprobs: [{token: logprob}]}`.
    static func logprobs(_ value: JSONValue?) -> [TokenLogprob]? {
        guard let value, value != .null else { return nil }
        if let content = value["content"], let parsed = content.tokenLogprobs() { return parsed }
        guard let tokens = value["tokens"]?.arrayValue, let logprobs = value["token_logprobs"]?.arrayValue else {
            return nil
        }
        let tops = value["top_logprobs"]?.arrayValue ?? []
        return tokens.indices.compactMap { index in
            guard let token = tokens[index].stringValue else { return nil }
            let logprob = index < logprobs.count ? logprobs[index].doubleValue ?? -.infinity : -.infinity
            let top = (index < tops.count ? tops[index].objectValue ?? [:] : [:])
                .compactMap { key, value in value.doubleValue.map { TokenLogprob.Alternative(token: key, logprob: $0) }
                }
                .sorted { $0.logprob > $1.logprob }
            return TokenLogprob(token: token, logprob: logprob, top: top)
        }
    }

    package func tokenCount(_ text: String, timeout: Double) async throws -> Int? { nil }

    package func properties(timeout: Double) async throws -> ServerProperties {
        let (answer, _) = try await transport.get("/models", timeout: timeout)
        let models = answer["data"]?.arrayValue ?? []
        let card = models.first(where: { $0["id"]?.stringValue == model }) ?? models.first
        var properties = ServerProperties(
            contextSize: card?["max_model_len"]?.intValue ?? card?["context_length"]?.intValue,
            slots: nil, model: model ?? card?["id"]?.stringValue)
        // The model card, less its `created` (vLLM and llama.cpp set it when asked): its owner,
        // vLLM's root (the weights' path or repository) and parent, llama.cpp's size and parameters.
        if let card, card.objectValue != nil {
            let described: JSONValue = [
                "id": card["id"] ?? .null, "owned_by": card["owned_by"] ?? .null, "root": card["root"] ?? .null,
                "parent": card["parent"] ?? .null, "size": card["meta"]?["size"] ?? .null,
                "n_params": card["meta"]?["n_params"] ?? .null,
            ]
            properties.description = (described.serialized(), "the server's model card (id, owner, root, size)")
        }
        return properties
    }

    package func health(timeout: Double) async throws {
        _ = try await transport.get("/models", timeout: timeout)
    }
}
