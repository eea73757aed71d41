import Foundation
import WorkbenchCore

/// A pretend model that speaks llama.cpp's, the OpenAI-compatible, Azure OpenAI's and Ollama's
/// wire formats, answering each prompt with `answer(prompt)`. Token counts are words, so tests can
/// predict them.
package struct StubModel: Sendable {
    package var answer: @Sendable (String) -> String
    /// Answers by the model a request names (OpenAI's `model`, Azure's deployment) when set, so
    /// one stub serves a base model and a tuned one.
    package var answerByModel: (@Sendable (_ model: String?, _ prompt: String) -> String)?
    /// Log-probabilities of candidate first tokens, for `n_probs` / `top_logprobs`.
    package var firstTokenProbabilities: @Sendable (String) -> [(String, Double)]
    package var contextSize: Int
    package var slots: Int
    package var name: String
    /// The path `/props` reports (default `/models/<name>`): a real file makes its content the
    /// model's identity.
    package var modelPath: String?

    package init(
        contextSize: Int = 4096, slots: Int = 4, name: String = "stub-model.gguf",
        firstTokenProbabilities: @escaping @Sendable (String) -> [(String, Double)] = { _ in [] },
        answer: @escaping @Sendable (String) -> String
    ) {
        self.answer = answer
        self.firstTokenProbabilities = firstTokenProbabilities
        self.contextSize = contextSize
        self.slots = slots
        self.name = name
    }

    package static func tokens(_ text: String) -> Int {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
    }

    /// Answers one request the way the real server for its path would. Azure's
    /// `/openai/deployments/NAME/…?api-version=…` is answered as `/v1/…` for model NAME.
    package func reply(_ request: StubRequest) -> StubReply {
        var body = request.json ?? .object([:])
        var path = request.path
        if let azure = StubModel.azureRoute(path) {
            path = azure.path
            if let deployment = azure.deployment, case .object(var fields) = body {
                fields["model"] = .string(deployment)
                body = .object(fields)
            }
        }
        let answer = { (prompt: String) in
            self.answerByModel?(body["model"]?.stringValue, prompt) ?? self.answer(prompt)
        }
        switch (request.method, path) {
        case ("GET", "/health"): return .json(["status": "ok"])
        case ("GET", "/props"):
            return .json([
                "default_generation_settings": ["n_ctx": .number(Double(contextSize))],
                "total_slots": .number(Double(slots)), "model_path": .string(modelPath ?? "/models/" + name),
            ])
        case ("POST", "/tokenize"):
            let content = body["content"]?.stringValue ?? ""
            if body["with_pieces"]?.boolValue == true {
                // A token per word, its id a hash of the word: the same word, the same token.
                let words = content.split(whereSeparator: { $0 == " " || $0 == "\n" })
                return .json([
                    "tokens": .array(
                        words.map {
                            [
                                "id": .number(Double(Int(SHA256.hex(String($0)).prefix(8), radix: 16)!)),
                                "piece": .string(" " + $0),
                            ]
                        })
                ])
            }
            let count = StubModel.tokens(content)
            return .json(["tokens": .array((0..<count).map { .number(Double($0)) })])
        case ("POST", "/completion"):
            let prompt = body["prompt"]?.stringValue ?? ""
            let text = answer(prompt)
            var json: [String: JSONValue] = [
                "content": .string(text), "tokens_evaluated": .number(Double(StubModel.tokens(prompt) + 1)),
                "tokens_predicted": .number(Double(max(1, StubModel.tokens(text)))), "stop_type": "eos",
                "model": .string(name),
                "timings": ["prompt_ms": 1.5, "predicted_ms": 2.5],
            ]
            if let n = body["n_probs"]?.intValue, n > 0 {
                json["completion_probabilities"] = logprobs(prompt, text, top: n)
            }
            return .json(.object(json))
        case ("GET", "/v1/models"):
            return .json(["data": [["id": .string(name), "max_model_len": .number(Double(contextSize))]]])
        case ("POST", "/v1/completions"):
            let prompt = body["prompt"]?.stringValue ?? ""
            let text = answer(prompt)
            var choice: [String: JSONValue] = ["text": .string(text), "finish_reason": "stop", "index": 0]
            if let n = body["logprobs"]?.intValue, n > 0 {
                let items = logprobs(prompt, text, top: n).arrayValue ?? []
                choice["logprobs"] = [
                    "tokens": .array(items.map { $0["token"]! }),
                    "token_logprobs": .array(items.map { $0["logprob"]! }),
                    "top_logprobs": .array(
                        items.map { item in
                            .object(
                                Dictionary(
                                    (item["top_logprobs"]?.arrayValue ?? []).map {
                                        ($0["token"]!.stringValue!, $0["logprob"]!)
                                    },
                                    uniquingKeysWith: { a, _ in a }))
                        }),
                ]
            }
            return .json([
                "choices": [.object(choice)], "usage": usage(prompt, text),
                "model": .string(body["model"]?.stringValue ?? name),
            ])
        case ("POST", "/v1/chat/completions"):
            let prompt = lastMessage(body)
            let text = answer(prompt)
            var choice: [String: JSONValue] = [
                "message": ["role": "assistant", "content": .string(text)], "finish_reason": "stop", "index": 0,
            ]
            if body["logprobs"]?.boolValue == true {
                choice["logprobs"] = ["content": logprobs(prompt, text, top: body["top_logprobs"]?.intValue ?? 1)]
            }
            return .json([
                "choices": [.object(choice)], "usage": usage(prompt, text),
                "model": .string(body["model"]?.stringValue ?? name),
            ])
        case ("GET", "/api/tags"):
            return .json(["models": [["name": .string(name), "digest": .string("sha256:" + SHA256.hex(name))]]])
        case ("POST", "/api/show"):
            return .json(["model_info": ["stub.context_length": .number(Double(contextSize))]])
        case ("POST", "/api/generate"), ("POST", "/api/chat"):
            let prompt = request.path == "/api/chat" ? lastMessage(body) : body["prompt"]?.stringValue ?? ""
            let text = answer(prompt)
            var json: [String: JSONValue] = [
                "model": .string(name), "done": true, "done_reason": "stop",
                "prompt_eval_count": .number(Double(StubModel.tokens(prompt))),
                "eval_count": .number(Double(max(1, StubModel.tokens(text)))),
                "prompt_eval_duration": 1_500_000, "eval_duration": 2_500_000,
            ]
            if request.path == "/api/chat" {
                json["message"] = ["role": "assistant", "content": .string(text)]
            } else {
                json["response"] = .string(text)
            }
            if body["logprobs"]?.boolValue == true {
                json["logprobs"] = logprobs(prompt, text, top: body["top_logprobs"]?.intValue ?? 1)
            }
            return .json(.object(json))
        default:
            return .json(["error": ["message": .string("no route \(request.method) \(request.path)")]], status: 404)
        }
    }

    /// The `/v1` path an Azure data-plane path stands for, and the deployment it names.
    static func azureRoute(_ path: String) -> (path: String, deployment: String?)? {
        guard path.hasPrefix("/openai/") else { return nil }
        let bare = String(path.prefix { $0 != "?" })
        let parts = bare.split(separator: "/").map(String.init)
        if parts.count >= 4, parts[1] == "deployments" {
            return ("/v1/" + parts[3...].joined(separator: "/"), parts[2])
        }
        return ("/v1/" + parts.dropFirst().joined(separator: "/"), nil)
    }

    private func lastMessage(_ body: JSONValue) -> String {
        body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
    }

    private func usage(_ prompt: String, _ text: String) -> JSONValue {
        [
            "prompt_tokens": .number(Double(StubModel.tokens(prompt))),
            "completion_tokens": .number(Double(max(1, StubModel.tokens(text)))),
        ]
    }

    /// The first token's alternatives from `firstTokenProbabilities`, then one entry per word.
    private func logprobs(_ prompt: String, _ text: String, top: Int) -> JSONValue {
        let words = text.split(separator: " ").map { " " + $0 }
        var items: [JSONValue] = []
        for (index, word) in words.enumerated() {
            var alternatives = index == 0 ? firstTokenProbabilities(prompt) : []
            if alternatives.isEmpty { alternatives = [(word, -0.01)] }
            let chosen = alternatives.first(where: { $0.0 == word })?.1 ?? alternatives[0].1
            items.append([
                "token": .string(word), "logprob": .number(chosen),
                "top_logprobs": .array(
                    alternatives.prefix(top).map { ["token": .string($0.0), "logprob": .number($0.1)] }),
            ])
        }
        return .array(items)
    }
}

extension StubServer {
    /// A stub serving `model`, with `fault` given the first say on each request (nil: behave).
    package convenience init(
        model: StubModel, port: Int = 0, fault: @escaping @Sendable (StubRequest) -> StubReply? = { _ in nil }
    ) throws {
        try self.init(port: port) { request in fault(request) ?? model.reply(request) }
    }
}
