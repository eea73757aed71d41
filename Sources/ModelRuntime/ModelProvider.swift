import Foundation
import WorkbenchCore

/// The kinds of model servers `pwb` speaks to.
package enum ProviderKind: String, Sendable, Hashable, CaseIterable {
    /// llama.cpp's `llama-server` native API: `/completion`, `/tokenize`, `/props`, `/health`.
    case llamaCpp = "llama.cpp"
    /// `/v1/chat/completions` and `/v1/completions`: vLLM, LM Studio, llama.cpp, Ollama, hosted APIs.
    case openAI = "openai"
    /// Ollama's native `/api/generate` and `/api/chat`.
    case ollama
    /// Azure OpenAI's classic data plane: `/openai/deployments/{deployment}/…`, an `api-version`
    /// query, the key in an `api-key` header.
    case azure
}

package struct ChatMessage: Sendable, Hashable {
    package var role: String
    package var content: String

    package init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// `{"role": …, "content": …}`, as every chat API takes it.
    package var json: JSONValue { ["role": .string(role), "content": .string(content)] }
}

/// What to ask a model: a raw prompt or chat messages, and how to sample.
package struct CompletionRequest: Sendable, Hashable {
    package enum Prompt: Sendable, Hashable {
        case text(String)
        case chat([ChatMessage])
    }

    package var prompt: Prompt
    package var maxTokens: Int
    package var temperature: Double
    package var topP: Double?
    package var topK: Int?
    package var stop: [String]
    package var seed: Int?
    /// How many alternatives to report for each generated token's log-probability; 0 for none.
    package var topLogprobs: Int
    /// The server slot to run in (llama.cpp's `id_slot`), so prompts sharing a prefix find it in
    /// that slot's cache; nil lets the server choose. Servers without slots ignore it, and it is
    /// not part of the cache key: it changes where the answer is computed, not what it is.
    package var slot: Int?
    /// Every loaded LoRA adapter's scale for this request, by the server's id (llama.cpp's
    /// per-request `lora`). `ModelClient` sets it from what the server has loaded and which adapter
    /// the client applies: a request to a server with adapters always states each one's scale,
    /// since one that states none is answered with the server's global scales, not the base model.
    /// Not part of the cache key: ids change from one server start to the next, so the model's
    /// identity names the adapter instead.
    package var lora: [LoraScale]?
    /// Constrains the answer to one of these texts (a label, after an optional space); nil
    /// leaves generation free. Each provider says it its server's way (`ChoiceConstraint`), and
    /// the answer comes back as the chosen text.
    package var choice: [String]?

    package init(
        prompt: Prompt, maxTokens: Int = 256, temperature: Double = 0, topP: Double? = nil, topK: Int? = nil,
        stop: [String] = [], seed: Int? = nil, topLogprobs: Int = 0, slot: Int? = nil
    ) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.stop = stop
        self.seed = seed
        self.topLogprobs = topLogprobs
        self.slot = slot
    }

    /// The whole prompt as text, for token estimates and messages.
    package var promptText: String {
        switch prompt {
        case .text(let text): text
        case .chat(let messages): messages.map(\.content).joined(separator: "\n")
        }
    }

    /// Everything that determines the answer, as canonical JSON: part of the response cache key.
    package var canonicalJSON: JSONValue {
        var object: [String: JSONValue] = [
            "max_tokens": .number(Double(maxTokens)), "temperature": .number(temperature),
            "stop": .array(stop.map { .string($0) }), "top_logprobs": .number(Double(topLogprobs)),
        ]
        switch prompt {
        case .text(let text): object["prompt"] = .string(text)
        case .chat(let messages): object["messages"] = .array(messages.map(\.json))
        }
        if let choice { object["choice"] = .array(choice.map { .string($0) }) }
        object.merge(samplingFields) { _, set in set }
        return .object(object)
    }

    /// The sampling settings llama.cpp, OpenAI-compatible servers and Ollama all take under the
    /// same names, each only when set: stop, top_p, top_k, seed.
    var samplingFields: [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if !stop.isEmpty { fields["stop"] = .array(stop.map { .string($0) }) }
        if let topP { fields["top_p"] = .number(topP) }
        if let topK { fields["top_k"] = .number(Double(topK)) }
        if let seed { fields["seed"] = .number(Double(seed)) }
        return fields
    }
}

/// A LoRA adapter a server has loaded: its id there (ids change from one start to the next), its
/// file, and the scale the server applies it at to a request that names no scales.
package struct LoadedAdapter: Sendable, Hashable {
    package var id: Int
    package var path: String
    package var scale: Double

    package init(id: Int, path: String, scale: Double) {
        self.id = id
        self.path = path
        self.scale = scale
    }

    /// Ids beyond this are not ones a server could mean: no server loads a million adapters.
    static let maximumID = 1_000_000
}

/// One LoRA adapter of a llama.cpp server and the scale to apply it with.
package struct LoraScale: Sendable, Hashable {
    package var id: Int
    package var scale: Double

    package init(id: Int, scale: Double) {
        self.id = id
        self.scale = scale
    }

    /// The list as llama-server takes it: `[{"id": 0, "scale": 1}, …]`.
    package static func json(_ list: [LoraScale]) -> JSONValue {
        .array(list.map { ["id": .number(Double($0.id)), "scale": .number($0.scale)] })
    }
}

/// Why generation stopped.
package enum FinishReason: Sendable, Hashable, CustomStringConvertible {
    /// A stop sequence or the end-of-text token.
    case stop
    /// `max_tokens` was reached.
    case length
    case other(String)

    package init(_ text: String?) {
        switch text?.lowercased() {
        case "stop", "eos", "word", "end_turn", "stop_sequence": self = .stop
        case "length", "limit", "max_tokens": self = .length
        case nil, "": self = .other("unknown")
        case let other?: self = .other(other)
        }
    }

    package var description: String {
        switch self {
        case .stop: "stop"
        case .length: "length"
        case .other(let text): text
        }
    }
}

/// A model's answer and what it cost.
package struct Completion: Sendable, Hashable {
    package var text: String
    package var promptTokens: Int?
    package var completionTokens: Int?
    /// Wall time from sending the request to the last byte of the answer, in milliseconds.
    package var latencyMilliseconds: Double
    package var finishReason: FinishReason
    /// Per generated token, when the server reports log-probabilities.
    package var logprobs: [TokenLogprob]?
    /// The compute the server reports for the answer (prompt read, answer generated).
    package var serverTimings: ServerTimings?
    /// The endpoint that answered.
    package var endpoint: String
    /// The model the server says answered.
    package var model: String?
    /// The LoRA scales the request stated (nil: the server had no adapter loaded, so none).
    package var lora: [LoraScale]?

    package init(
        text: String, promptTokens: Int?, completionTokens: Int?, latencyMilliseconds: Double,
        finishReason: FinishReason, logprobs: [TokenLogprob]? = nil, serverTimings: ServerTimings? = nil,
        endpoint: String, model: String? = nil
    ) {
        self.text = text
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMilliseconds = latencyMilliseconds
        self.finishReason = finishReason
        self.logprobs = logprobs
        self.serverTimings = serverTimings
        self.endpoint = endpoint
        self.model = model
    }
}

extension Completion {
    /// The completion, when its numbers are ones a server could mean: token counts not negative,
    /// timings finite durations under a year. A hostile or broken server's `1e300` otherwise
    /// reaches arithmetic and formatting that cannot hold it.
    func checked() throws -> Completion {
        func bad(_ detail: String) -> ModelError { .malformed(url: endpoint, detail: detail) }
        for (name, count) in [("prompt", promptTokens), ("completion", completionTokens)] {
            if let count, count < 0 { throw bad("a negative \(name) token count, \(count)") }
            // Counts are summed over every case of a run: one near Int.max would overflow the sum.
            if let count, count > ServerProperties.contextRange.upperBound {
                throw bad("a \(name) token count of \(count), more than any context holds")
            }
        }
        if let problem = serverTimings?.problem { throw bad(problem) }
        return self
    }
}

/// What a server says about itself.
package struct ServerProperties: Sendable, Hashable {
    /// The context window per request, in tokens.
    package var contextSize: Int?
    /// How many requests it serves at once.
    package var slots: Int?
    /// The model it serves (a path for llama.cpp, a name elsewhere).
    package var model: String?
    /// What the server says identifies the model's content (Ollama's digest), when it says.
    package var digest: String?
    /// What else the server says about the weights it serves (a size, a parameter count, a
    /// repository), as canonical text to fingerprint when there is no file or digest to go by, and
    /// what that is in words; nil when it says nothing more than the name.
    package var description: (text: String, basis: String)?

    package init(contextSize: Int? = nil, slots: Int? = nil, model: String? = nil, digest: String? = nil) {
        self.contextSize = contextSize
        self.slots = slots
        self.model = model
        self.digest = digest
    }

    package static func == (a: ServerProperties, b: ServerProperties) -> Bool {
        (a.contextSize, a.slots, a.model, a.digest) == (b.contextSize, b.slots, b.model, b.digest)
            && a.description?.text == b.description?.text && a.description?.basis == b.description?.basis
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(model)
        hasher.combine(digest)
        hasher.combine(description?.text)
    }
}

extension ServerProperties {
    /// The slots pwb takes a server to have: each becomes a lane of requests in flight, so a
    /// number beyond this is no server's (1,024 is far above what one machine serves at once).
    package static let slotRange = 1...1024
    /// The context windows, in tokens, pwb takes a server to have: far above any model's.
    package static let contextRange = 1...100_000_000

    /// The properties, when their numbers are ones a server could mean: a hostile or broken
    /// server's trillion slots otherwise become a trillion lanes allocated before the first request.
    func checked(url: URL) throws -> ServerProperties {
        func bad(_ detail: String) -> ModelError { .malformed(url: url.absoluteString, detail: detail) }
        if let slots, !Self.slotRange.contains(slots) {
            throw bad("it reports \(slots) slots; pwb takes a server of 1 to \(Self.slotRange.upperBound)")
        }
        if let contextSize, !Self.contextRange.contains(contextSize) {
            throw bad(
                "it reports a context of \(contextSize) tokens; pwb takes 1 to \(Self.contextRange.upperBound)")
        }
        return self
    }
}

/// One token of the server's vocabulary: its id and its text.
package struct Token: Sendable, Hashable {
    package var id: Int
    package var piece: String

    package init(id: Int, piece: String) {
        self.id = id
        self.piece = piece
    }
}

extension ModelProvider {
    package func tokenize(_ text: String, timeout: Double) async throws -> [Token]? { nil }

    package func loadedAdapters(timeout: Double) async throws -> [LoadedAdapter] { [] }
}

/// What a model server can do beyond answering a prompt. The engine and the workspace ask these,
/// never a provider's kind: a new provider states its own and is used for what it states.
package struct ProviderCapabilities: OptionSet, Sendable, Hashable {
    package let rawValue: Int

    package init(rawValue: Int) { self.rawValue = rawValue }

    /// Names its slots (llama.cpp's `id_slot`), so requests sharing a prompt prefix can be sent to
    /// the slot whose cache holds it; `ServerProperties.slots` says how many.
    package static let namesSlots = ProviderCapabilities(rawValue: 1 << 0)
    /// Applies loaded LoRA adapters per request, at the scales the request states
    /// (`CompletionRequest.lora`), and lists what it loaded (`loadedAdapters`).
    package static let appliesAdapters = ProviderCapabilities(rawValue: 1 << 1)
    /// Splits text into its tokens on request (`tokenize`, `tokenCount`).
    package static let tokenizes = ProviderCapabilities(rawValue: 1 << 2)
    /// Returns each generated token's log-probability and the top alternatives.
    package static let logprobs = ProviderCapabilities(rawValue: 1 << 3)
    /// Constrains the answer to one of several texts (`CompletionRequest.choice`).
    package static let constrainsChoice = ProviderCapabilities(rawValue: 1 << 4)
}

/// A model server's API: the plug-in point for llama.cpp, OpenAI-compatible and Ollama servers.
/// A provider talks to one endpoint; `ModelClient` spreads requests over several and retries.
package protocol ModelProvider: Sendable {
    /// Which server this is: shown, and part of the identity a response is cached under; what it
    /// can do is `capabilities`.
    var kind: ProviderKind { get }
    /// What the server can do beyond a completion.
    var capabilities: ProviderCapabilities { get }
    /// The base URL, e.g. `http://127.0.0.1:8080`.
    var endpoint: URL { get }

    /// One completion. Throws `ModelError` for an answer that is an error or not understood,
    /// `TransportError` when the exchange itself failed.
    func complete(_ request: CompletionRequest, timeout: Double) async throws -> Completion

    /// The prompt's tokens, or nil when the server cannot count them.
    func tokenCount(_ text: String, timeout: Double) async throws -> Int?

    /// How the server's tokenizer splits `text` (no beginning-of-text token), or nil when the
    /// server has no tokenizer to ask.
    func tokenize(_ text: String, timeout: Double) async throws -> [Token]?

    func properties(timeout: Double) async throws -> ServerProperties

    /// The LoRA adapters the server has loaded; empty for a server that applies none per request.
    func loadedAdapters(timeout: Double) async throws -> [LoadedAdapter]

    /// Returns when the server is ready to answer; throws otherwise.
    func health(timeout: Double) async throws
}
