import Foundation
import WorkbenchCore

/// One model as `.pwb/config.json` describes it.
package struct ModelConfiguration: Sendable, Hashable {
    package var name: String
    package var provider: ProviderKind
    package var endpoints: [URL]
    /// The model id the server expects (OpenAI-compatible and Ollama), or the deployment's name
    /// (Azure); llama.cpp serves one.
    package var model: String?
    /// The environment variable holding the API key; the key itself is never stored.
    package var apiKeyEnvironment: String?
    package var timeoutSeconds: Double
    package var retries: Int
    /// Azure's `api-version` query; nil takes `AzureOpenAIProvider.defaultAPIVersion`.
    package var apiVersion: String?
    /// The model a hosted fine-tuning job starts from, when it is not `model`: on Azure `model`
    /// names a deployment, and jobs take the model behind it (`gpt-4o-mini-2024-07-18`).
    package var baseModel: String?

    package init(
        name: String, provider: ProviderKind, endpoints: [URL], model: String? = nil, apiKeyEnvironment: String? = nil,
        timeoutSeconds: Double = 120, retries: Int = 3, apiVersion: String? = nil, baseModel: String? = nil
    ) {
        self.name = name
        self.provider = provider
        self.endpoints = endpoints
        self.model = model
        self.apiKeyEnvironment = apiKeyEnvironment
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        self.apiVersion = apiVersion
        self.baseModel = baseModel
    }

    /// The `api-version` Azure requests carry.
    package var azureAPIVersion: String { apiVersion ?? AzureOpenAIProvider.defaultAPIVersion }

    /// A client for this model; the API key is read from the environment now.
    package func client(http: HTTPClient, environment: [String: String]) throws -> ModelClient {
        let apiKey = try key(environment: environment)
        let providers: [any ModelProvider] = try endpoints.map { url in
            switch provider {
            case .llamaCpp: return LlamaCppProvider(endpoint: url, http: http)
            case .openAI: return OpenAIProvider(endpoint: url, model: model, apiKey: apiKey, http: http)
            case .ollama:
                guard let model else {
                    throw InputError(
                        file: ".pwb/config.json", field: "models.\(name).model",
                        "an Ollama model needs the model name, e.g. \"gemma3:270m\"")
                }
                return OllamaProvider(endpoint: url, model: model, http: http)
            case .azure:
                return AzureOpenAIProvider(
                    endpoint: url, deployment: try deployment(), apiVersion: azureAPIVersion, apiKey: apiKey, http: http
                )
            }
        }
        return ModelClient(
            name: name, providers: providers, timeout: timeoutSeconds,
            retry: RetryPolicy(attempts: retries + 1))
    }

    /// The API key from the environment variable the configuration names (nil when it names
    /// none), refused where sending it would expose it.
    func key(environment: [String: String]) throws -> String? {
        guard let variable = apiKeyEnvironment else { return nil }
        guard let key = environment[variable], !key.isEmpty else {
            throw InputError(
                file: ".pwb/config.json", field: "models.\(name).api_key_env",
                "names the environment variable \(variable), which is not set; export it with the API key")
        }
        // A line break in a header value would end the header and start another one.
        guard !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw InputError(
                file: ".pwb/config.json", field: "models.\(name).api_key_env",
                "names \(variable), whose value has a line break or another control character; export the key alone")
        }
        if let exposed = endpoints.first(where: { !RuntimeConfiguration.keepsSecrets($0) }) {
            throw InputError(
                file: ".pwb/config.json", field: "models.\(name).endpoints",
                "would send the key from \(variable) in plain text over http:// to \(exposed.host ?? ""); use https://, or a server on this machine"
            )
        }
        return key
    }

    /// The Azure deployment's name, which becomes part of every path.
    func deployment() throws -> String {
        guard let model, RuntimeConfiguration.isPathSegment(model) else {
            throw InputError(
                file: ".pwb/config.json", field: "models.\(name).model",
                model == nil
                    ? "an Azure model needs its deployment's name, e.g. \"gpt-4o-mini\""
                    : "\"\(model!)\" is not a deployment name; use letters, digits, '-', '_' and '.'")
        }
        return model
    }
}

/// `.pwb/config.json` with the environment's overrides:
///
/// ```json
/// {"default": "vllm", "timeout_seconds": 120,
///  "models": {"vllm": {"provider": "openai", "endpoints": ["https://gpu1:8000/v1", "https://gpu2:8000/v1"],
///                      "model": "Qwen/Qwen2.5-7B-Instruct", "api_key_env": "VLLM_API_KEY"}}}
/// ```
///
/// `PWB_MODEL` picks a configured model by name (or, with `PWB_ENDPOINT`, is the model id);
/// `PWB_ENDPOINT` (comma-separated URLs) and `PWB_PROVIDER` override the chosen model's. With no
/// model configured at all, `pwb` uses its managed local `llama-server`.
package struct RuntimeConfiguration: Sendable {
    package var models: [String: ModelConfiguration] = [:]
    package var defaultModel: String?
    package var timeoutSeconds: Double = 120
    package var retries = 3
    package var environment: [String: String] = [:]

    package init(environment: [String: String] = [:]) {
        self.environment = environment
    }

    static let keys = ["default", "timeout_seconds", "retries", "models"]
    static let modelKeys = [
        "provider", "endpoints", "endpoint", "model", "api_key_env", "timeout_seconds", "retries", "api_version",
        "base_model",
    ]

    /// Parses the text of `config.json` (shown as `path` in errors).
    package init(parsing text: String, path: String, environment: [String: String]) throws {
        self.environment = environment
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw InputError(file: path, "is not JSON: \(error)")
        }
        guard let fields = value.objectValue else { throw InputError(file: path, "must be a JSON object") }
        for key in fields.keys.sorted() where !RuntimeConfiguration.keys.contains(key) {
            throw InputError(
                file: path, field: key,
                "is not a setting; settings are \(RuntimeConfiguration.keys.joined(separator: ", "))")
        }
        if let timeout = fields["timeout_seconds"] {
            timeoutSeconds = try RuntimeConfiguration.timeout(timeout, path: path, field: "timeout_seconds")
        }
        if let retries = fields["retries"] {
            self.retries = try RuntimeConfiguration.retries(retries, path: path, field: "retries")
        }
        if let value = fields["default"] {
            guard let name = value.stringValue else {
                throw InputError(file: path, field: "default", "must be a model's name")
            }
            defaultModel = name
        }
        if let value = fields["models"] {
            guard let entries = value.objectValue else {
                throw InputError(file: path, field: "models", "must be an object of models by name")
            }
            for (name, entry) in entries {
                models[name] = try RuntimeConfiguration.model(name, entry, path: path, defaults: self)
            }
        }
        if let defaultModel, models[defaultModel] == nil {
            throw InputError(
                file: path, field: "default",
                "names \"\(defaultModel)\", which is not among the models (\(models.keys.sorted().joined(separator: ", ")))"
            )
        }
    }

    static func model(_ name: String, _ entry: JSONValue, path: String, defaults: RuntimeConfiguration) throws
        -> ModelConfiguration
    {
        let field = "models.\(name)"
        guard let object = entry.objectValue else { throw InputError(file: path, field: field, "must be an object") }
        for key in object.keys.sorted() where !modelKeys.contains(key) {
            throw InputError(
                file: path, field: "\(field).\(key)", "is not a model setting; use \(modelKeys.joined(separator: ", "))"
            )
        }
        for key in ["provider", "endpoint", "model", "api_key_env", "api_version", "base_model"] {
            if let value = object[key], value.stringValue == nil {
                throw InputError(file: path, field: "\(field).\(key)", "must be text, not \(value.kindName)")
            }
        }
        // A configuration may come with a cloned repository: it must not be able to pick any
        // secret of the environment (GITHUB_TOKEN, AWS_…) and send it to a server of its choosing.
        if let variable = object["api_key_env"]?.stringValue, !isKeyVariable(variable) {
            throw InputError(
                file: path, field: "\(field).api_key_env",
                "names \(variable); pwb reads a key only from a variable whose name ends in _API_KEY or starts with PWB_ (e.g. VLLM_API_KEY), so a configuration cannot send another secret"
            )
        }
        let timeout = try object["timeout_seconds"].map {
            try RuntimeConfiguration.timeout($0, path: path, field: "\(field).timeout_seconds")
        }
        let retries = try object["retries"].map {
            try RuntimeConfiguration.retries($0, path: path, field: "\(field).retries")
        }
        let providerName = object["provider"]?.stringValue ?? ProviderKind.llamaCpp.rawValue
        guard let provider = ProviderKind(rawValue: providerName) else {
            throw InputError(
                file: path, field: "\(field).provider",
                "\"\(providerName)\" is not a provider; use \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let apiVersion = object["api_version"]?.stringValue
        if let apiVersion {
            guard provider == .azure else {
                throw InputError(
                    file: path, field: "\(field).api_version",
                    "is an Azure setting, and this model's provider is \(provider.rawValue); remove it or use \"provider\": \"azure\""
                )
            }
            // It goes into every URL's query: a date, perhaps with "-preview", nothing else.
            guard apiVersion.count <= 40, apiVersion.first?.isNumber == true,
                apiVersion.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            else {
                throw InputError(
                    file: path, field: "\(field).api_version",
                    "\"\(apiVersion.prefix(40))\" is not an API version; give one like \"\(AzureOpenAIProvider.defaultAPIVersion)\""
                )
            }
        }
        var texts: [String] = []
        if let one = object["endpoint"]?.stringValue { texts.append(one) }
        for item in object["endpoints"]?.arrayValue ?? [] {
            guard let text = item.stringValue else {
                throw InputError(file: path, field: "\(field).endpoints", "must be a list of URLs")
            }
            texts.append(text)
        }
        guard !texts.isEmpty else {
            throw InputError(
                file: path, field: "\(field).endpoints", "is missing; give the server's URL, e.g. http://127.0.0.1:8080"
            )
        }
        let endpoints = try texts.map { try endpointURL($0, source: "\(path): \(field).endpoints") }
        let configuration = ModelConfiguration(
            name: name, provider: provider, endpoints: endpoints, model: object["model"]?.stringValue,
            apiKeyEnvironment: object["api_key_env"]?.stringValue,
            timeoutSeconds: timeout ?? defaults.timeoutSeconds, retries: retries ?? defaults.retries,
            apiVersion: apiVersion, baseModel: object["base_model"]?.stringValue)
        if provider == .azure { _ = try configuration.deployment() }
        return configuration
    }

    /// Whether `text` can stand in a URL path as it is: an Azure deployment's name.
    static func isPathSegment(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text != "." && text != ".."
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// The longest wait for one answer: a day. A longer one is no timeout at all, and past a
    /// few hundred years no clock can even count it.
    static let timeoutRange = 0.0...86_400

    /// Tries after the first: enough for any outage a retry can outlast.
    static let retryRange = 0...100

    static func timeout(_ value: JSONValue, path: String, field: String) throws -> Double {
        guard let seconds = value.doubleValue, seconds > 0, timeoutRange.contains(seconds) else {
            throw InputError(
                file: path, field: field,
                "must be a number of seconds between 0 and \(Int(timeoutRange.upperBound)) (a day), above 0")
        }
        return seconds
    }

    static func retries(_ value: JSONValue, path: String, field: String) throws -> Int {
        guard let count = value.intValue, retryRange.contains(count) else {
            throw InputError(
                file: path, field: field,
                "must be a whole number of retries, \(retryRange.lowerBound) to \(retryRange.upperBound)")
        }
        return count
    }

    static func endpointURL(_ text: String, source: String) throws -> URL {
        guard let url = URL(string: text.trimmingWhitespace()), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else {
            let shown = text.range(of: "@") != nil ? "a URL with a user name or password" : "\"\(text)\""
            throw InputError("\(source): \(shown) is not an http:// or https:// URL")
        }
        // Credentials in a URL would be printed by runtime status and stored in error texts.
        if url.user != nil || url.password != nil {
            throw InputError(
                "\(source): \(scheme)://…@\(url.host ?? "") carries a user name or password, which pwb would show in messages; give the key with api_key_env instead"
            )
        }
        return url
    }

    /// Whether an environment variable may hold a key pwb sends: `…_API_KEY` or `PWB_…`.
    static func isKeyVariable(_ name: String) -> Bool {
        !name.isEmpty && (name.hasSuffix("_API_KEY") || name.hasPrefix("PWB_"))
            && name.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }
    }

    /// Whether a key sent to `url` stays private: https, or plain http to this machine only.
    static func keepsSecrets(_ url: URL) -> Bool {
        url.scheme?.lowercased() == "https" || Loopback.contains(url)
    }

    /// The model to use for `choice`; nil means the managed local runtime. See `select(_:)`.
    package func select(_ choice: ModelChoice) throws -> ModelConfiguration? {
        try select(choice.requestedName)
    }

    /// The model to use: `name` (from `--model` or `PWB_MODEL`), else the default, else the only
    /// one; nil means the managed local runtime. Environment overrides are applied.
    package func select(_ requested: String?) throws -> ModelConfiguration? {
        let requested = requested ?? environment["PWB_MODEL"].flatMap { $0.isEmpty ? nil : $0 }
        let endpointOverride = environment["PWB_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        let providerOverride = try environment["PWB_PROVIDER"].flatMap { text -> ProviderKind? in
            if text.isEmpty { return nil }
            guard let kind = ProviderKind(rawValue: text) else {
                throw Refusal(
                    "PWB_PROVIDER is \"\(text)\"; use \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        var chosen: ModelConfiguration?
        if let requested, let found = models[requested] {
            chosen = found
        } else if let requested, endpointOverride == nil, requested != ModelChoice.managedName {
            let known = models.keys.sorted()
            let choices =
                known.isEmpty
                ? " (no models are configured; the managed one is called \(ModelChoice.managedName))"
                : " (known: \(known.joined(separator: ", ")), \(ModelChoice.managedName))"
            throw Refusal("there is no model \"\(requested)\" in .pwb/config.json\(choices)")
        } else if requested == nil {
            chosen = defaultModel.flatMap { models[$0] } ?? (models.count == 1 ? models.values.first : nil)
        }
        if let endpointOverride {
            let urls = try endpointOverride.split(separator: ",").map {
                try RuntimeConfiguration.endpointURL(String($0), source: "PWB_ENDPOINT")
            }
            if chosen == nil {
                chosen = ModelConfiguration(
                    name: requested ?? "env", provider: providerOverride ?? .llamaCpp, endpoints: urls,
                    model: requested, timeoutSeconds: timeoutSeconds, retries: retries)
            }
            chosen?.endpoints = urls
        }
        if let providerOverride { chosen?.provider = providerOverride }
        return chosen
    }
}
