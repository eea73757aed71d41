import WorkbenchCore

/// How an adapter was trained: what `adapters.training` holds. Every key is written and read
/// here; elsewhere the record is typed.
public struct AdapterTraining: Sendable, Hashable {
    /// What was asked: training again with equal settings reuses the adapter.
    public struct Settings: Sendable, Hashable {
        public var rank: Int
        public var alpha: Int
        /// The most epochs; the one kept is chosen by validation loss.
        public var maxEpochs: Int
        public var learningRate: Double
        public var batch: Int
        public var seed: Int
        /// Train cases given (the first N of the split), the validation part included.
        public var examples: Int
        /// The share of them held out to choose the epoch by; 0 trains every epoch and keeps the last.
        public var validationShare: Double
        /// Epochs without a lower validation loss before training stops.
        public var patience: Int
        /// SHA-256 of the training pairs, hex.
        public var dataHash: String
        /// `template/variant@N` whose zero-shot prompts it learned to answer.
        public var revision: String
        public var baseModel: String
        /// A hash of the training script and its pinned packages.
        public var trainer: String

        /// A hash of the settings, hex: part of an adapter's default name.
        public var hash: String {
            SHA256.hex(AdapterTraining(settings: self, bestEpoch: 0, epochsRun: 0).settingsJSON.serialized())
        }

        public init(
            rank: Int, maxEpochs: Int, learningRate: Double, batch: Int, seed: Int, examples: Int,
            validationShare: Double, patience: Int, dataHash: String, revision: String, baseModel: String,
            trainer: String
        ) {
            self.rank = rank
            self.alpha = rank * 2
            self.maxEpochs = maxEpochs
            self.learningRate = learningRate
            self.batch = batch
            self.seed = seed
            self.examples = examples
            self.validationShare = validationShare
            self.patience = patience
            self.dataHash = dataHash
            self.revision = revision
            self.baseModel = baseModel
            self.trainer = trainer
        }
    }

    public var settings: Settings
    /// The loss of every step, and each epoch's mean.
    public var losses: [Double] = []
    public var epochLosses: [Double] = []
    /// Each epoch's loss on the held-out part, per answer token.
    public var validationLosses: [Double] = []
    /// The epoch whose adapter was kept (the lowest validation loss), and how many ran.
    public var bestEpoch: Int
    public var epochsRun: Int
    public var trainingSeconds = 0.0
    /// Train cases times epochs run, over the training seconds.
    public var examplesPerSecond = 0.0
    public var loadSeconds = 0.0
    public var convertingSeconds = 0.0
    /// Where it trained: `cpu`, `cuda` or `mps`.
    public var device: String?
    /// Cores, CPU and memory of the machine.
    public var machine: JSONValue?
    /// Short hashes of the inputs it was given, so that no evaluation scores it on them.
    public var trainInputs: [String] = []

    public init(settings: Settings, bestEpoch: Int, epochsRun: Int) {
        self.settings = settings
        self.bestEpoch = bestEpoch
        self.epochsRun = epochsRun
    }

    /// Reads what `json` wrote, and records from before the epoch was chosen by validation
    /// (`epochs` trained, all of them kept).
    public init(json: JSONValue) {
        let epochs = json["max_epochs"]?.intValue ?? json["epochs"]?.intValue ?? 0
        settings = Settings(
            rank: json["rank"]?.intValue ?? 0, maxEpochs: epochs, learningRate: json["learning_rate"]?.doubleValue ?? 0,
            batch: json["batch"]?.intValue ?? 0, seed: json["seed"]?.intValue ?? 0,
            examples: json["examples"]?.intValue ?? 0, validationShare: json["validation_share"]?.doubleValue ?? 0,
            patience: json["patience"]?.intValue ?? 0, dataHash: json["data_hash"]?.stringValue ?? "",
            revision: json["revision"]?.stringValue ?? "", baseModel: json["base_model"]?.stringValue ?? "",
            trainer: json["trainer"]?.stringValue ?? "")
        settings.alpha = json["alpha"]?.intValue ?? settings.rank * 2
        func numbers(_ key: String) -> [Double] { json[key]?.arrayValue?.compactMap(\.doubleValue) ?? [] }
        losses = numbers("losses")
        epochLosses = numbers("epoch_losses")
        validationLosses = numbers("validation_losses")
        bestEpoch = json["best_epoch"]?.intValue ?? epochs
        epochsRun = json["epochs_run"]?.intValue ?? epochs
        trainingSeconds = json["training_seconds"]?.doubleValue ?? 0
        examplesPerSecond = json["examples_per_second"]?.doubleValue ?? 0
        loadSeconds = json["load_seconds"]?.doubleValue ?? 0
        convertingSeconds = json["converting_seconds"]?.doubleValue ?? 0
        device = json["device"]?.stringValue
        machine = json["machine"]
        trainInputs = json["train_inputs"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The settings alone.
    var settingsJSON: JSONValue {
        [
            "rank": .number(Double(settings.rank)), "alpha": .number(Double(settings.alpha)),
            "max_epochs": .number(Double(settings.maxEpochs)), "learning_rate": .number(settings.learningRate),
            "batch": .number(Double(settings.batch)), "seed": .number(Double(settings.seed)),
            "examples": .number(Double(settings.examples)), "validation_share": .number(settings.validationShare),
            "patience": .number(Double(settings.patience)), "data_hash": .string(settings.dataHash),
            "revision": .string(settings.revision), "base_model": .string(settings.baseModel),
            "trainer": .string(settings.trainer),
        ]
    }

    public var json: JSONValue {
        var object = settingsJSON.objectValue ?? [:]
        object.merge([
            "losses": .array(losses.map { .number($0) }), "epoch_losses": .array(epochLosses.map { .number($0) }),
            "validation_losses": .array(validationLosses.map { .number($0) }),
            "best_epoch": .number(Double(bestEpoch)), "epochs_run": .number(Double(epochsRun)),
            // What an adapter's reader wants to know first: the epochs it was trained for.
            "epochs": .number(Double(bestEpoch)),
            "training_seconds": .number(trainingSeconds), "examples_per_second": .number(examplesPerSecond),
            "load_seconds": .number(loadSeconds), "converting_seconds": .number(convertingSeconds),
            "train_inputs": .array(trainInputs.map { .string($0) }),
        ]) { _, new in new }
        if let device { object["device"] = .string(device) }
        if let machine { object["machine"] = machine }
        return .object(object)
    }
}
