import Foundation
import WorkbenchCore

/// Azure OpenAI's classic data plane: one deployment of a resource, asked at
/// `/openai/deployments/{deployment}/chat/completions` (or `/completions`) with an `api-version`
/// query and the key in an `api-key` header. The bodies and answers are OpenAI's.
package struct AzureOpenAIProvider: ModelProvider {
    package let kind = ProviderKind.azure
    package let capabilities: ProviderCapabilities = [.logprobs, .constrainsChoice]
    /// The resource's base URL, e.g. `https://my-resource.openai.azure.com`.
    package let endpoint: URL
    package let deployment: String
    package let apiVersion: String
    private let transport: JSONTransport

    /// The `api-version` used when `.pwb/config.json` names none: the newest generally available
    /// version of the data plane that has both inference and fine-tuning jobs.
    package static let defaultAPIVersion = "2024-10-21"

    /// - Parameters:
    ///   - deployment: the deployment's name (letters, digits, `-`, `_`, `.`; checked by the
    ///     configuration, since it becomes part of the path).
    ///   - apiKey: sent as the `api-key` header; read from the environment by the caller.
    package init(endpoint: URL, deployment: String, apiVersion: String, apiKey: String?, http: any HTTPTransport) {
        self.endpoint = endpoint
        self.deployment = deployment
        self.apiVersion = apiVersion
        self.transport = JSONTransport(
            http: http, base: endpoint, credential: apiKey.map(Credential.apiKey) ?? .none,
            query: "api-version=\(apiVersion)")
    }

    package func complete(_ request: CompletionRequest, timeout: Double) async throws -> Completion {
        // The deployment names the model; a `model` field would be ignored at best.
        let (route, body) = OpenAIProvider.wire(request, model: nil)
        let path = "/openai/deployments/\(deployment)\(route)"
        let (answer, latency) = try await transport.generate(
            path, body, maxTokens: request.maxTokens, timeout: timeout)
        var completion = try OpenAIProvider.completion(
            answer, request: request, url: transport.url(path).absoluteString, latency: latency,
            endpoint: endpoint.absoluteString)
        completion.model = completion.model ?? deployment
        return completion
    }

    package func tokenCount(_ text: String, timeout: Double) async throws -> Int? { nil }

    /// The deployment's name as the model: the data plane lists the resource's models, not what
    /// a deployment serves or its context size.
    package func properties(timeout: Double) async throws -> ServerProperties {
        try await health(timeout: timeout)
        return ServerProperties(model: deployment)
    }

    /// The resource's model list answers with the key and `api-version` given, so it checks both.
    package func health(timeout: Double) async throws {
        _ = try await transport.get("/openai/models", timeout: timeout)
    }
}
