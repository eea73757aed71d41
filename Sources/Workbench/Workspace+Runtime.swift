import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// A model ready to take requests, with what the workbench needs to know about it.
public struct ConnectedModel: Sendable {
    public var client: ModelClient
    public var properties: ServerProperties
    /// What identifies the model in the response cache and in stored runs: provider kind, model
    /// name and, when known, a fingerprint of its content (`#` and 16 hex digits; see `ModelIdentity`).
    public var identity: String
    /// The identity of the model without the adapter the client applies: what a judge, which
    /// grades every rung alike, is cached under.
    public var baseIdentity: String
    /// What the identity's content was read from, in words (the model file, a digest, what the
    /// server says of the weights, or nothing but the name).
    public var identityBasis: String
    /// Set when this command started the managed `llama-server`.
    public var startedRuntime: RuntimeInfo?

    /// The configured model name (`local` for the managed runtime).
    public var name: String { client.name }
}

extension Workspace {
    public var configPath: String { stateDirectory + "/config.json" }

    /// `.pwb/config.json` with the environment's overrides, and the tuned models a hosted job made
    /// during this command (`servedTunedModels`); empty when the file does not exist.
    public func runtimeConfiguration(environment: [String: String]) throws -> RuntimeConfiguration {
        var configuration = RuntimeConfiguration(environment: environment)
        if FileSystem.exists(configPath) {
            let text = try FileSystem.readText(
                configPath, limit: SourceFile.settingsLimit, kind: "a configuration file", shownAs: shown(configPath))
            configuration = try RuntimeConfiguration(parsing: text, path: shown(configPath), environment: environment)
        }
        for (name, model) in servedTunedModels where configuration.models[name] == nil {
            configuration.models[name] = model
        }
        return configuration
    }

    public func managedServer(environment: [String: String]) -> ManagedServer {
        ManagedServer(stateDirectory: stateDirectory, environment: environment, http: http)
    }

    /// Connects to the model named `name` (or the default), starting the managed `llama-server`
    /// when no model is configured. Fails with `RuntimeUnavailable` when nothing answers.
    /// - Parameter adapter: a stored LoRA adapter every request applies at scale 1. The managed
    ///   runtime is restarted when it has not loaded it; the model's identity names the adapter's
    ///   hash and scale, so its answers are cached apart from the base model's.
    public func connect(model name: String?, adapter: AdapterRecord? = nil, environment: [String: String])
        async throws -> ConnectedModel
    {
        let configuration = try runtimeConfiguration(environment: environment)
        let client: ModelClient
        var started: RuntimeInfo?
        let adapterFile = adapter.map(adapterPath)
        if let chosen = try configuration.select(name) {
            if let adapter {
                throw Refusal(
                    "adapter \(adapter.name) is served by the managed runtime, not by model \(chosen.name); leave out \(setting: "model"), or name a tuned model your server serves with \(setting: "model")"
                )
            }
            client = try chosen.client(http: http, environment: environment)
        } else {
            let (info, didStart) = try await managedServer(environment: environment).ensureRunning(
                adapters: adapterFile.map { [$0] } ?? [])
            if didStart { started = info }
            client = ModelClient(
                name: "local", providers: [LlamaCppProvider(endpoint: info.endpoint, http: http)],
                timeout: configuration.timeoutSeconds, retry: RetryPolicy(attempts: configuration.retries + 1))
        }
        let properties = try await client.properties()
        let served = properties.model.map { ($0 as NSString).lastPathComponent } ?? client.name
        let (content, basis) = ModelIdentity.content(properties, servedFrom: client.providers.map(\.endpoint))
        let identity = "\(client.kind.rawValue):\(served)" + (content.map { "#" + $0 } ?? "")
        // What the server has loaded decides every request's adapter scales, base requests included.
        let loaded = try await client.loadedAdapters()
        var model = ConnectedModel(
            client: client.serving(loaded)!, properties: properties, identity: identity, baseIdentity: identity,
            identityBasis: basis, startedRuntime: started)
        if let adapter, let adapterFile {
            guard adapter.baseModel == model.identity else {
                throw Refusal(
                    "adapter \(adapter.name) was trained for \(adapter.baseModel), but the runtime serves \(model.identity); start the runtime with that model (\(command: "runtime start --model PATH")) or train the adapter again"
                )
            }
            guard let applying = client.serving(loaded, applying: adapterFile) else {
                throw RuntimeUnavailable(
                    endpoints: client.endpoints,
                    reason: "the managed llama-server did not load adapter \(adapter.name) (\(adapterFile))")
            }
            model.client = applying
            model.identity += "+lora:\(adapter.hash.prefix(16))@1"
        }
        return model
    }
}
