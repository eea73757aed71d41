import Foundation
import WorkbenchCore

/// Which model a command talks to: what `--model` says, parsed once.
package enum ModelChoice: Sendable, Hashable {
    /// What the configuration picks: `PWB_MODEL`, its default model, its only model, else the
    /// managed runtime.
    case automatic
    /// The managed `llama-server`, applying `adapter` to every request when one is given.
    case managed(adapter: AdapterFile?)
    /// A model of `.pwb/config.json` by name (or, with `PWB_ENDPOINT`, the model id to ask for).
    case configured(String)

    /// What the user types and sees for the managed runtime.
    package static let managedName = "local"

    /// The managed runtime applying no adapter.
    package static let managed = ModelChoice.managed(adapter: nil)

    /// The choice a model name means: none is `automatic`, `local` the managed runtime, any other
    /// a configured model.
    package init(_ name: String?) {
        switch name {
        case nil: self = .automatic
        case ModelChoice.managedName?: self = .managed
        case let name?: self = .configured(name)
        }
    }

    /// The name the configuration is asked for (nil: whatever it picks).
    var requestedName: String? {
        switch self {
        case .automatic: nil
        case .managed: ModelChoice.managedName
        case .configured(let name): name
        }
    }

    /// The adapter every request applies, when one does.
    package var adapter: AdapterFile? {
        if case .managed(let adapter) = self { adapter } else { nil }
    }
}

/// A LoRA adapter file for the managed runtime to serve and apply, as the workbench stored it.
package struct AdapterFile: Sendable, Hashable {
    /// The name it is known by, for messages.
    package var name: String
    package var path: String
    /// A hash of its content: the model identity names its first 16 hex digits.
    package var hash: String
    /// The identity of the model it was trained for (`ModelIdentity`'s text).
    package var baseModel: String

    package init(name: String, path: String, hash: String, baseModel: String) {
        self.name = name
        self.path = path
        self.hash = hash
        self.baseModel = baseModel
    }

    /// Why a configured model, `model`, cannot apply this adapter.
    package func refusal(model: String) -> Refusal {
        Refusal(
            "adapter \(name) is served by the managed runtime, not by model \(model); leave out \(setting: "model"), or name a tuned model your server serves with \(setting: "model")"
        )
    }
}
