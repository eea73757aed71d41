import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

extension Workspace {
    package var configPath: String { stateDirectory + "/config.json" }

    /// `.pwb/config.json` with the environment's overrides, and the tuned models a hosted job made
    /// during this command (`servedTunedModels`); empty when the file does not exist.
    package func runtimeConfiguration(environment: [String: String]) throws -> RuntimeConfiguration {
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

    package func managedServer(environment: [String: String]) -> ManagedServer {
        ManagedServer(stateDirectory: stateDirectory, environment: environment, http: http)
    }

    /// Connects to the chosen model, starting the managed `llama-server` when no configured model
    /// is chosen. Fails with `RuntimeUnavailable` when nothing answers.
    package func connect(_ choice: ModelChoice, environment: [String: String]) async throws -> ConnectedModel {
        try await runtimeConfiguration(environment: environment).connect(
            choice, managedServer: managedServer(environment: environment), environment: environment)
    }

    /// `choice` applying `adapter` when one is given: a stored LoRA adapter is served by the
    /// managed runtime, so a choice of a configured model is refused.
    func modelChoice(_ choice: ModelChoice, applying adapter: AdapterRecord?, environment: [String: String]) throws
        -> ModelChoice
    {
        guard let adapter else { return choice }
        let file = AdapterFile(
            name: adapter.name, path: adapterPath(adapter), hash: adapter.hash, baseModel: adapter.baseModel)
        if case .configured(let name) = choice {
            let chosen = try runtimeConfiguration(environment: environment).select(choice)
            throw file.refusal(model: chosen?.name ?? name)
        }
        return .managed(adapter: file)
    }
}
