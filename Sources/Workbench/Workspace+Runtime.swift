import Foundation
import ModelRuntime
import WorkbenchCore

/// A model ready to take requests, with what the workbench needs to know about it.
public struct ConnectedModel: Sendable {
    public var client: ModelClient
    public var properties: ServerProperties
    /// What identifies the model in the response cache and in stored runs: provider kind, model
    /// name and, when known, a fingerprint of its content (`#` and 16 hex digits; see `ModelIdentity`).
    public var identity: String
    /// Set when this command started the managed `llama-server`.
    public var startedRuntime: RuntimeInfo?

    /// The configured model name (`local` for the managed runtime).
    public var name: String { client.name }
}

extension Workspace {
    public var configPath: String { stateDirectory + "/config.json" }

    /// `.pwb/config.json` with the environment's overrides; empty when the file does not exist.
    public func runtimeConfiguration(environment: [String: String]) throws -> RuntimeConfiguration {
        guard FileSystem.exists(configPath) else { return RuntimeConfiguration(environment: environment) }
        let text = try FileSystem.readText(
            configPath, limit: SourceFile.settingsLimit, kind: "a configuration file", shownAs: shown(configPath))
        return try RuntimeConfiguration(parsing: text, path: shown(configPath), environment: environment)
    }

    public func managedServer(environment: [String: String]) -> ManagedServer {
        ManagedServer(stateDirectory: stateDirectory, environment: environment, http: http)
    }

    /// Connects to the model named `name` (or the default), starting the managed `llama-server`
    /// when no model is configured. Fails with `RuntimeUnavailable` when nothing answers.
    public func connect(model name: String?, environment: [String: String]) async throws -> ConnectedModel {
        let configuration = try runtimeConfiguration(environment: environment)
        let client: ModelClient
        var started: RuntimeInfo?
        if let chosen = try configuration.select(name) {
            client = try chosen.client(http: http, environment: environment)
        } else {
            let (info, didStart) = try await managedServer(environment: environment).ensureRunning()
            if didStart { started = info }
            client = ModelClient(
                name: "local", providers: [LlamaCppProvider(endpoint: info.endpoint, http: http)],
                timeout: configuration.timeoutSeconds, retry: RetryPolicy(attempts: configuration.retries + 1))
        }
        let properties = try await client.properties()
        let served = properties.model.map { ($0 as NSString).lastPathComponent } ?? client.name
        let content = properties.digest.map(ModelIdentity.short) ?? properties.model.flatMap(ModelIdentity.fingerprint)
        return ConnectedModel(
            client: client, properties: properties,
            identity: "\(client.kind.rawValue):\(served)" + (content.map { "#" + $0 } ?? ""), startedRuntime: started)
    }
}
