import Foundation
import WorkbenchCore

/// llama.cpp's `llama-server`: raw prompts to `/completion` (with `n_probs` log-probabilities and
/// the prompt cache), chat through its `/v1/chat/completions`, `/tokenize`, `/props`, `/health`.
package struct LlamaCppProvider: ModelProvider {
    package let kind = ProviderKind.llamaCpp
    package let capabilities: ProviderCapabilities = [
        .namesSlots, .appliesAdapters, .tokenizes, .logprobs, .constrainsChoice,
    ]
    package let endpoint: URL
    private let transport: JSONTransport
    private let chat: OpenAIProvider

    package init(endpoint: URL, http: any HTTPTransport) {
        self.endpoint = endpoint
        self.transport = JSONTransport(http: http, base: endpoint)
        self.chat = OpenAIProvider(endpoint: transport.url("/v1"), model: nil, apiKey: nil, http: http)
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> Completion {
        guard case .text(let prompt) = request.prompt else { return try await chat.complete(request, timeout: timeout) }
        var body: [String: JSONValue] = [
            "prompt": .string(prompt), "n_predict": .number(Double(request.maxTokens)),
            "temperature": .number(request.temperature), "stop": .array(request.stop.map { .string($0) }),
            "cache_prompt": true, "stream": false,
        ]
        body.merge(request.samplingFields) { _, set in set }
        if request.topLogprobs > 0 { body["n_probs"] = .number(Double(request.topLogprobs)) }
        if let slot = request.slot { body["id_slot"] = .number(Double(slot)) }
        if let lora = request.lora { body["lora"] = LoraScale.json(lora) }
        if let choice = request.choice { body["grammar"] = .string(ChoiceConstraint.grammar(choice)) }
        let (answer, latency) = try await transport.generate(
            "/completion", .object(body), maxTokens: request.maxTokens, timeout: timeout)
        guard let text = answer["content"]?.stringValue else {
            throw ModelError.malformed(url: transport.url("/completion").absoluteString, detail: "no \"content\" field")
        }
        return Completion(
            text: text, promptTokens: answer["tokens_evaluated"]?.intValue,
            completionTokens: answer["tokens_predicted"]?.intValue, latencyMilliseconds: latency,
            finishReason: FinishReason(answer["stop_type"]?.stringValue),
            logprobs: request.topLogprobs > 0 ? LlamaCppProvider.logprobs(answer) : nil,
            serverTimings: ServerTimings(llamaCpp: answer["timings"]), endpoint: endpoint.absoluteString,
            model: answer["model"]?.stringValue)
    }

    /// `completion_probabilities` in the current format (`logprob`, `top_logprobs`) or the older
    /// one (`probs` with `tok_str` and `prob`).
    static func logprobs(_ answer: JSONValue) -> [TokenLogprob]? {
        guard let items = answer["completion_probabilities"]?.arrayValue else { return nil }
        if items.first?["logprob"] != nil { return answer["completion_probabilities"]?.tokenLogprobs() }
        return items.compactMap { item in
            guard let token = item["content"]?.stringValue else { return nil }
            let top = (item["probs"]?.arrayValue ?? []).compactMap { p -> TokenLogprob.Alternative? in
                guard let t = p["tok_str"]?.stringValue, let prob = p["prob"]?.doubleValue else { return nil }
                return TokenLogprob.Alternative(token: t, logprob: log(max(prob, 1e-300)))
            }
            return TokenLogprob(
                token: token, logprob: top.first(where: { $0.token == token })?.logprob ?? -.infinity, top: top)
        }
    }

    package func tokenCount(_ text: String, timeout: Double) async throws -> Int? {
        let (answer, _) = try await transport.post("/tokenize", ["content": .string(text)], timeout: timeout)
        guard let tokens = answer["tokens"]?.arrayValue else {
            throw ModelError.malformed(url: transport.url("/tokenize").absoluteString, detail: "no \"tokens\" field")
        }
        // `/completion` adds the beginning-of-text token that `/tokenize` leaves out.
        return tokens.count + 1
    }

    package func tokenize(_ text: String, timeout: Double) async throws -> [Token]? {
        let (answer, _) = try await transport.post(
            "/tokenize", ["content": .string(text), "with_pieces": true], timeout: timeout)
        guard let items = answer["tokens"]?.arrayValue else {
            throw ModelError.malformed(url: transport.url("/tokenize").absoluteString, detail: "no \"tokens\" field")
        }
        // Each is {id, piece}, the piece a text or (not valid UTF-8 alone) a list of bytes; a
        // server that ignores with_pieces answers plain ids.
        return try items.map { item in
            if let id = item.intValue { return Token(id: id, piece: "") }
            guard let id = item["id"]?.intValue else {
                throw ModelError.malformed(
                    url: transport.url("/tokenize").absoluteString, detail: "a token without an \"id\"")
            }
            let piece =
                item["piece"]?.stringValue
                ?? String(
                    decoding: (item["piece"]?.arrayValue ?? []).compactMap {
                        $0.intValue.map(UInt8.init(truncatingIfNeeded:))
                    }, as: UTF8.self)
            return Token(id: id, piece: piece)
        }
    }

    package func properties(timeout: Double) async throws -> ServerProperties {
        let (answer, _) = try await transport.get("/props", timeout: timeout)
        var properties = ServerProperties(
            contextSize: answer["default_generation_settings"]?["n_ctx"]?.intValue ?? answer["n_ctx"]?.intValue,
            slots: answer["total_slots"]?.intValue, model: answer["model_path"]?.stringValue)
        // What the server says of the weights beyond their path (`/v1/models`' meta): a file of
        // another size or parameter count is another model, wherever it lies. An older server
        // without the route says nothing more.
        if let (models, _) = try? await transport.get("/v1/models", timeout: timeout),
            let meta = models["data"]?.arrayValue?.first?["meta"], meta.objectValue != nil
        {
            let described: JSONValue = [
                "path": answer["model_path"] ?? .null, "ftype": answer["model_ftype"] ?? .null,
                "size": meta["size"] ?? .null, "n_params": meta["n_params"] ?? .null,
                "n_vocab": meta["n_vocab"] ?? .null, "n_embd": meta["n_embd"] ?? .null,
            ]
            properties.description = (described.serialized(), "the model's path, size and parameter count")
        }
        return properties
    }

    /// The LoRA adapters the server loaded (`GET /lora-adapters`), with the scale it applies each
    /// at when a request names none. A server too old to have the route has none.
    package func loadedAdapters(timeout: Double) async throws -> [LoadedAdapter] {
        let answer: JSONValue
        do {
            (answer, _) = try await transport.get("/lora-adapters", timeout: timeout)
        } catch ModelError.status(let code, _, _, _) where code == 404 {
            return []
        }
        guard let list = answer.arrayValue else {
            throw ModelError.malformed(url: transport.url("/lora-adapters").absoluteString, detail: "not a list")
        }
        return try list.map { item in
            guard let id = item["id"]?.intValue, (0...LoadedAdapter.maximumID).contains(id),
                let path = item["path"]?.stringValue
            else {
                throw ModelError.malformed(
                    url: transport.url("/lora-adapters").absoluteString, detail: "an adapter without an id or a path")
            }
            return LoadedAdapter(id: id, path: path, scale: item["scale"]?.doubleValue ?? 0)
        }
    }

    /// Sets the scale the server applies each adapter at when a request names none
    /// (`POST /lora-adapters`).
    package func setAdapterScales(_ scales: [LoraScale], timeout: Double) async throws {
        _ = try await transport.post("/lora-adapters", LoraScale.json(scales), timeout: timeout)
    }

    package func health(timeout: Double) async throws {
        _ = try await transport.get("/health", timeout: timeout)
    }
}
