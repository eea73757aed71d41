import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// The models a workspace reaches: `.pwb/config.json` and the environment, the managed
/// `llama-server` under `.pwb/`, the LoRA adapters trained there, and the tuned models a
/// provider's job made during this command. One HTTP client for every model call, so
/// connections are reused.
package final class Runtime {
    /// `.pwb/` under the working directory.
    package let stateDirectory: String
    /// The working directory, for paths in messages.
    let root: String
    package let http = HTTPClient()
    /// Tuned models a provider's fine-tuning job made, by the name they are measured under: models
    /// of the configuration for as long as this workspace is open.
    var servedTunedModels: [String: ModelConfiguration] = [:]

    init(stateDirectory: String, root: String) {
        self.stateDirectory = stateDirectory
        self.root = root
    }

    package var configPath: String { stateDirectory + "/config.json" }

    /// `.pwb/config.json` with the environment's overrides, and the tuned models a hosted job made
    /// during this command (`servedTunedModels`); empty when the file does not exist.
    package func configuration(environment: [String: String]) throws -> RuntimeConfiguration {
        var configuration = RuntimeConfiguration(environment: environment)
        if FileSystem.exists(configPath) {
            let shown = FileSystem.relative(configPath, to: root)
            let text = try FileSystem.readText(
                configPath, limit: SourceFile.settingsLimit, kind: "a configuration file", shownAs: shown)
            configuration = try RuntimeConfiguration(parsing: text, path: shown, environment: environment)
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
        try await configuration(environment: environment).connect(
            choice, managedServer: managedServer(environment: environment), environment: environment)
    }

    /// Where a stored LoRA adapter's file is.
    package func adapterPath(_ adapter: AdapterRecord) -> String { stateDirectory + "/" + adapter.path }

    /// `choice` applying `adapter` when one is given: a stored LoRA adapter is served by the
    /// managed runtime, so a choice of a configured model is refused.
    func choice(_ choice: ModelChoice, applying adapter: AdapterRecord?, environment: [String: String]) throws
        -> ModelChoice
    {
        guard let adapter else { return choice }
        let file = AdapterFile(
            name: adapter.name, path: adapterPath(adapter), hash: adapter.hash, baseModel: adapter.baseModel)
        if case .configured(let name) = choice {
            let chosen = try configuration(environment: environment).select(choice)
            throw file.refusal(model: chosen?.name ?? name)
        }
        return .managed(adapter: file)
    }
}
