import Foundation
import Synchronization
import WorkbenchCore

/// When and how long to wait before trying a request again.
package struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    package var attempts: Int
    /// The first back-off; each further one doubles, up to `maxDelay`, with full jitter.
    package var baseDelay: Double
    package var maxDelay: Double

    package init(attempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 8) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before try `attempt + 1`: a random time up to the exponential bound, and never
    /// less than the server's `Retry-After`.
    package func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        let bound = min(maxDelay, baseDelay * pow(2, Double(attempt)))
        let jittered = Double.random(in: (bound / 2)...max(bound / 2, bound))
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, 120))
    }
}

/// A model behind one or more endpoints of the same kind: requests go to the endpoint with the
/// fewest in flight, and are retried (on another endpoint when one is down or hung) after
/// connection errors, timeouts, truncated answers, 5xx and 429. When no endpoint can be reached
/// at all, `RuntimeUnavailable`.
package final class ModelClient: Sendable {
    /// The configured model's name (`ModelChoice.managedName` for the managed runtime).
    package let name: String
    package let kind: ProviderKind
    /// What every endpoint's server can do.
    package let capabilities: ProviderCapabilities
    package let providers: [any ModelProvider]
    package let timeout: Double
    package let retry: RetryPolicy
    /// What the model is, adapter included: what its answers are cached and stored under. Until
    /// the server has said what it serves (`identified(as:)`), its name alone.
    package let identity: ModelIdentity
    /// The LoRA adapters the server has loaded, and the one this client applies (nil: the base
    /// model). With any loaded, every request states every adapter's scale (see `complete`).
    package let adapters: [LoadedAdapter]
    package let applied: LoadedAdapter?
    private let inFlight: Mutex<[Int]>

    package convenience init(
        name: String, providers: [any ModelProvider], timeout: Double = 120, retry: RetryPolicy = RetryPolicy()
    ) {
        precondition(!providers.isEmpty, "a model needs at least one endpoint")
        self.init(
            name: name, providers: providers, timeout: timeout, retry: retry,
            identity: ModelIdentity(kind: providers[0].kind, served: name), adapters: [], applying: nil)
    }

    private init(
        name: String, providers: [any ModelProvider], timeout: Double, retry: RetryPolicy, identity: ModelIdentity,
        adapters: [LoadedAdapter], applying applied: LoadedAdapter?
    ) {
        self.name = name
        self.kind = providers[0].kind
        self.capabilities = providers.dropFirst().reduce(providers[0].capabilities) {
            $0.intersection($1.capabilities)
        }
        self.providers = providers
        self.timeout = timeout
        self.retry = retry
        self.identity = identity
        self.adapters = adapters
        self.applied = applied
        self.inFlight = Mutex([Int](repeating: 0, count: providers.count))
    }

    /// The same model known as `identity` (its adapter part aside: that is the applied adapter's).
    func identified(as identity: ModelIdentity) -> ModelClient {
        var identity = identity
        identity.adapter = self.identity.adapter
        return ModelClient(
            name: name, providers: providers, timeout: timeout, retry: retry, identity: identity,
            adapters: adapters, applying: applied)
    }

    /// The same model as its server has loaded `adapters`, applying `adapter` at scale 1 (nil:
    /// none, the base model), its identity naming the adapter. Nil when no loaded adapter has
    /// that adapter's file.
    func serving(_ adapters: [LoadedAdapter], applying adapter: AdapterFile? = nil) -> ModelClient? {
        var applied: LoadedAdapter?
        var identity = identity.base
        if let adapter {
            let wanted = (adapter.path as NSString).standardizingPath
            applied = adapters.first { ($0.path as NSString).standardizingPath == wanted }
            guard applied != nil else { return nil }
            identity = identity.applying(ModelIdentity.Adapter(hash: adapter.hash))
        }
        return ModelClient(
            name: name, providers: providers, timeout: timeout, retry: retry, identity: identity, adapters: adapters,
            applying: applied)
    }

    /// This model without the adapter it applies: the base model on the same server.
    package var base: ModelClient {
        applied == nil ? self : serving(adapters)!
    }

    /// The scales every request states: the applied adapter at 1, every other loaded one at 0;
    /// nil when the server has none loaded (the request then names none).
    package var adapterScales: [LoraScale]? {
        adapters.isEmpty ? nil : adapters.map { LoraScale(id: $0.id, scale: $0.id == applied?.id ? 1 : 0) }
    }

    /// The LoRA adapters the servers behind this model have loaded. Endpoints that loaded
    /// different ones cannot be told which to apply by one list of scales, so they are refused.
    package func loadedAdapters() async throws -> [LoadedAdapter] {
        let first = try await withRetries { try await $0.loadedAdapters(timeout: min(timeout, 30)) }
        for provider in providers.dropFirst() {
            let other = try await provider.loadedAdapters(timeout: min(timeout, 30))
            guard other.map(\.path) == first.map(\.path) else {
                throw ModelError.malformed(
                    url: provider.endpoint.absoluteString,
                    detail:
                        "it has loaded other LoRA adapters than \(providers[0].endpoint.absoluteString), so no request could say which to apply on both; load the same adapters on every endpoint of a model"
                )
            }
        }
        return first
    }

    package var endpoints: [String] { providers.map(\.endpoint.absoluteString) }

    /// The index of the endpoint to use: fewest requests in flight, avoiding those that just
    /// failed to connect unless every one has.
    private func acquire(avoiding down: Set<Int>) -> Int {
        inFlight.withLock { counts in
            let candidates = counts.indices.filter { !down.contains($0) }
            let pool = candidates.isEmpty ? Array(counts.indices) : candidates
            let chosen = pool.min { counts[$0] < counts[$1] }!
            counts[chosen] += 1
            return chosen
        }
    }

    private func release(_ index: Int) {
        inFlight.withLock { $0[index] -= 1 }
    }

    /// Runs `call` against an endpoint with retries; see the type's description.
    private func withRetries<T: Sendable>(_ call: @Sendable (any ModelProvider) async throws -> T) async throws -> T {
        var down = Set<Int>()
        var lastError: any Error = RuntimeUnavailable(endpoints: endpoints, reason: "no attempt was made")
        var onlyConnectionFailures = true
        var silentFailures = 0
        for attempt in 0..<retry.attempts {
            try Task.checkCancellation()
            let index = acquire(avoiding: down)
            var retryAfter: Double?
            do {
                defer { release(index) }
                return try await call(providers[index])
            } catch let error as TransportError {
                lastError = error
                down.insert(index)
            } catch let error as ModelError where error.isRetryable {
                lastError = error
                onlyConnectionFailures = false
                switch error {
                case .status(_, _, _, let after): retryAfter = after
                case .timedOut, .truncated:
                    // A hung or broken endpoint: the next try goes elsewhere when there is an
                    // elsewhere; one that hangs on every try is not waited for again and again.
                    down.insert(index)
                    silentFailures += 1
                    if silentFailures >= 2 && down.count == providers.count { throw error }
                default: break
                }
            } catch {
                throw error
            }
            if attempt + 1 < retry.attempts {
                try await Task.sleep(for: .seconds(retry.delay(afterAttempt: attempt, retryAfter: retryAfter)))
            }
        }
        if onlyConnectionFailures, let transport = lastError as? TransportError {
            throw RuntimeUnavailable(endpoints: endpoints, reason: transport.reason.detail)
        }
        throw lastError
    }

    /// One completion, with retries. On a server with LoRA adapters loaded the request states
    /// every adapter's scale (`adapterScales`), whatever the caller set: a request that named none
    /// would be answered at the server's global scales, which llama-server keeps at 1 for every
    /// adapter it loaded, even with `--lora-init-without-apply`.
    package func complete(_ request: CompletionRequest) async throws -> Completion {
        var request = request
        request.lora = adapterScales
        var completion = try await withRetries { [request] in
            try await $0.complete(request, timeout: timeout).checked()
        }
        completion.lora = request.lora
        return completion
    }

    package func tokenCount(_ text: String) async throws -> Int? {
        try await withRetries { try await $0.tokenCount(text, timeout: timeout) }
    }

    /// How the server's tokenizer splits `text`, or nil when it has none to ask.
    package func tokenize(_ text: String) async throws -> [Token]? {
        try await withRetries { try await $0.tokenize(text, timeout: min(timeout, 30)) }
    }

    /// The first endpoint's properties, with the slots of all endpoints added up. Numbers no
    /// server could mean are a `ModelError` naming the endpoint.
    package func properties() async throws -> ServerProperties {
        let timeout = min(timeout, 30)
        var first = try await withRetries { try await $0.properties(timeout: timeout).checked(url: $0.endpoint) }
        if providers.count > 1, let slots = first.slots {
            var total = slots
            for provider in providers.dropFirst() {
                total +=
                    (try? await provider.properties(timeout: timeout).checked(url: provider.endpoint).slots) ?? slots
            }
            first.slots = total
        }
        return first
    }

    package func health() async throws {
        try await withRetries { try await $0.health(timeout: min(timeout, 30)) }
    }

    /// Fails before sending when `request` cannot fit the context window; uses the server's
    /// tokenizer when it has one. Returns the prompt's token count when known.
    @discardableResult
    package func checkFits(_ request: CompletionRequest, contextSize: Int?) async throws -> Int? {
        guard let contextSize, let tokens = try await tokenCount(request.promptText) else { return nil }
        if tokens + request.maxTokens > contextSize {
            throw ModelError.promptTooLong(
                tokens: tokens, maxTokens: request.maxTokens, contextSize: contextSize, url: endpoints[0])
        }
        return tokens
    }
}
