import Foundation
import WorkbenchCore

extension ModelConfiguration {
    /// Whether the provider has a hosted fine-tuning API (OpenAI and Azure OpenAI); an
    /// OpenAI-compatible server without one (vLLM) answers its requests with 404.
    package var offersFineTuning: Bool { provider == .openAI || provider == .azure }

    /// The model a fine-tuning job starts from: `base_model`, else (OpenAI) `model`. Azure's
    /// `model` names a deployment, not a model a job can take, so it needs `base_model`.
    package func fineTuningBaseModel() throws -> String {
        if let baseModel { return baseModel }
        if provider == .openAI, let model { return model }
        throw InputError(
            file: ".pwb/config.json", field: "models.\(name).base_model",
            provider == .azure
                ? "is needed to fine-tune on Azure: the model behind deployment \(model ?? "?"), e.g. \"gpt-4o-mini-2024-07-18\""
                : "is needed to fine-tune: the model the job starts from, e.g. \"gpt-4o-mini-2024-07-18\"")
    }

    /// A client for the provider's fine-tuning jobs, at the first endpoint (jobs belong to the
    /// account or resource, not to one server); the key is read from the environment now.
    /// - Throws: `Refusal` when the provider has no fine-tuning API; `InputError` for a key
    ///   that is missing or would be exposed.
    package func fineTuningClient(http: any HTTPTransport, environment: [String: String]) throws -> FineTuningClient {
        let api: FineTuningClient.API
        switch provider {
        case .openAI: api = .openAI
        case .azure: api = .azure(apiVersion: azureAPIVersion)
        case .llamaCpp, .ollama:
            throw Refusal(
                "model \(name) is served by \(provider.rawValue), which has no hosted fine-tuning API; \(command: "finetune EVALSET") without \(setting: "model") trains an adapter for the local model"
            )
        }
        if provider == .azure { _ = try deployment() }
        return FineTuningClient(
            api: api, endpoint: endpoints[0], apiKey: try key(environment: environment), http: http,
            timeout: timeoutSeconds, retry: RetryPolicy(attempts: retries + 1))
    }

    /// This model's configuration serving `served` instead: the tuned model's name (OpenAI), or
    /// the deployment made from it (Azure). Endpoints, key and settings stay the same.
    package func serving(_ served: String, name: String? = nil) -> ModelConfiguration {
        var tuned = self
        tuned.model = served
        if let name { tuned.name = name }
        return tuned
    }
}
