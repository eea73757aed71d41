import Foundation
import WorkbenchCore

/// A model ready to take requests, with what its server said of itself.
package struct ConnectedModel: Sendable {
    package var client: ModelClient
    package var properties: ServerProperties
    /// Set when connecting started the managed `llama-server`.
    package var startedRuntime: RuntimeInfo?

    package init(client: ModelClient, properties: ServerProperties, startedRuntime: RuntimeInfo? = nil) {
        self.client = client
        self.properties = properties
        self.startedRuntime = startedRuntime
    }

    /// The configured model name (`local` for the managed runtime).
    package var name: String { client.name }

    /// What identifies the model in the response cache and in stored runs: provider kind, model
    /// name, when known a fingerprint of its content, and the adapter applied (`ModelIdentity`).
    package var identity: String { client.identity.description }

    /// The identity of the model without the adapter the client applies: what a judge, which
    /// grades every rung alike, is cached under.
    package var baseIdentity: String { client.identity.base.description }

    /// What the identity's content was read from, in words (the model file, a digest, what the
    /// server says of the weights, or nothing but the name).
    package var identityBasis: String { client.identity.basis }
}

extension RuntimeConfiguration {
    /// Connects to the model `choice` names, starting the managed `llama-server` (`server`) when
    /// no configured model is chosen, and asks the server what it serves. Fails with
    /// `RuntimeUnavailable` when nothing answers.
    ///
    /// A managed choice with an adapter restarts the managed runtime when it has not loaded the
    /// adapter's file; every request then applies it at scale 1, and the model's identity names
    /// the adapter's hash and scale, so its answers are cached apart from the base model's.
    package func connect(_ choice: ModelChoice, managedServer server: ManagedServer, environment: [String: String])
        async throws -> ConnectedModel
    {
        let adapter = choice.adapter
        let client: ModelClient
        var started: RuntimeInfo?
        if let chosen = try select(choice) {
            if let adapter {
                throw adapter.refusal(model: chosen.name)
            }
            client = try chosen.client(http: server.http, environment: environment)
        } else {
            let (info, didStart) = try await server.ensureRunning(adapters: adapter.map { [$0.path] } ?? [])
            if didStart { started = info }
            client = ModelClient(
                name: ModelChoice.managedName,
                providers: [LlamaCppProvider(endpoint: info.endpoint, http: server.http)],
                timeout: timeoutSeconds, retry: RetryPolicy(attempts: retries + 1))
        }
        let properties = try await client.properties()
        let identified = client.identified(
            as: ModelIdentity(
                kind: client.kind, name: client.name, properties: properties,
                servedFrom: client.providers.map(\.endpoint)))
        // What the server has loaded decides every request's adapter scales, base requests included.
        let loaded = client.capabilities.contains(.appliesAdapters) ? try await client.loadedAdapters() : []
        var model = ConnectedModel(client: identified.serving(loaded)!, properties: properties, startedRuntime: started)
        if let adapter {
            guard adapter.baseModel == model.identity else {
                throw Refusal(
                    "adapter \(adapter.name) was trained for \(adapter.baseModel), but the runtime serves \(model.identity); start the runtime with that model (\(command: "runtime start --model PATH")) or train the adapter again"
                )
            }
            guard let applying = identified.serving(loaded, applying: adapter) else {
                throw RuntimeUnavailable(
                    endpoints: client.endpoints,
                    reason: "the managed llama-server did not load adapter \(adapter.name) (\(adapter.path))")
            }
            model.client = applying
        }
        return model
    }
}
