import WorkbenchCore

/// How an adapter was trained: what `adapters.training` holds. Every key is written and read
/// here; elsewhere the record is typed.
package struct AdapterTraining: Sendable, Hashable {
    /// What was asked: training again with equal settings reuses the adapter.
    package struct Settings: Sendable, Hashable {
        package var rank: Int
        package var alpha: Int
        /// The most epochs; the one kept is chosen by validation loss.
        package var maxEpochs: Int
        package var learningRate: Double
        package var batch: Int
        package var seed: Int
        /// Train cases given (the first N of the split), the validation part included.
        package var examples: Int
        /// The share of them held out to choose the epoch by; 0 trains every epoch and keeps the last.
        package var validationShare: Double
        /// Epochs without a lower validation loss before training stops.
        package var patience: Int
        /// SHA-256 of the training pairs, hex.
        package var dataHash: String
        /// `template/variant@N` whose zero-shot prompts it learned to answer.
        package var revision: String
        package var baseModel: String
        /// A hash of the training script and its pinned packages.
        package var trainer: String

        /// A hash of the settings, hex: part of an adapter's default name.
        package var hash: String {
            SHA256.hex(AdapterTraining(settings: self, bestEpoch: 0, epochsRun: 0).settingsJSON.serialized())
        }

        package init(
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

    package var settings: Settings
    /// The loss of every step, and each epoch's mean.
    package var losses: [Double] = []
    package var epochLosses: [Double] = []
    /// Each epoch's loss on the held-out part, per answer token.
    package var validationLosses: [Double] = []
    /// The epoch whose adapter was kept (the lowest validation loss), and how many ran.
    package var bestEpoch: Int
    package var epochsRun: Int
    package var trainingSeconds = 0.0
    /// Train cases times epochs run, over the training seconds.
    package var examplesPerSecond = 0.0
    package var loadSeconds = 0.0
    package var convertingSeconds = 0.0
    /// Where it trained: `cpu`, `cuda` or `mps`.
    package var device: String?
    /// Cores, CPU and memory of the machine.
    package var machine: JSONValue?
    /// Short hashes of the inputs it was given, so that no evaluation scores it on them.
    package var trainInputs: [String] = []

    package init(settings: Settings, bestEpoch: Int, epochsRun: Int) {
        self.settings = settings
        self.bestEpoch = bestEpoch
        self.epochsRun = epochsRun
    }

    /// Reads what `json` wrote, and records from before the epoch was chosen by validation
    /// (`epochs` trained, all of them kept).
    package init(json: JSONValue) {
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

    package var json: JSONValue {
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

/// How a provider's fine-tuning job tuned a model (OpenAI, Azure OpenAI): what `adapters.training`
/// holds for a hosted record, under `hosted` with the settings beside it. Every key is written and
/// read here.
package struct HostedTraining: Sendable, Hashable {
    /// What was asked: a job with equal settings is waited for or its model reused.
    package struct Settings: Sendable, Hashable {
        /// The provider (`openai`, `azure`) and the endpoint the job ran at.
        package var provider: String
        package var endpoint: String
        /// The model tuned.
        package var baseModel: String
        /// `auto`, or a count of epochs.
        package var epochs: String
        package var suffix: String
        package var seed: Int?
        /// Train examples sent, and those held out in the validation file.
        package var examples: Int
        package var validationExamples: Int
        /// SHA-256 of the training and validation files, hex.
        package var dataHash: String
        package var revision: String

        package init(
            provider: String, endpoint: String, baseModel: String, epochs: String, suffix: String, seed: Int?,
            examples: Int, validationExamples: Int, dataHash: String, revision: String
        ) {
            self.provider = provider
            self.endpoint = endpoint
            self.baseModel = baseModel
            self.epochs = epochs
            self.suffix = suffix
            self.seed = seed
            self.examples = examples
            self.validationExamples = validationExamples
            self.dataHash = dataHash
            self.revision = revision
        }

        /// The form of the data sent; a change to it is a different job.
        static let format = "openai-chat/1"
    }

    package var settings: Settings
    package var jobID: String
    /// The job's status as the provider last reported it.
    package var status: String
    package var trainingFile: String?
    package var validationFile: String?
    /// The configured model the job was asked through.
    package var configuredModel: String
    /// When the job was started, ISO 8601.
    package var started: String?
    /// The tuned model's name at the provider, once the job succeeded.
    package var fineTunedModel: String?
    package var trainedTokens: Int?
    /// The hyperparameters the provider chose, as it reported them.
    package var hyperparameters: JSONValue?
    /// From the job's creation to its end, by the provider's clock when it gives one.
    package var wallSeconds: Double?
    /// Dollars per million trained tokens when given, and what the job cost at that price.
    package var priceTrainPerMillion: Double?
    package var costUSD: Double?
    /// Short hashes of the inputs it was given (validation included), so no evaluation scores it on them.
    package var trainInputs: [String] = []

    package init(settings: Settings, jobID: String, status: String, configuredModel: String) {
        self.settings = settings
        self.jobID = jobID
        self.status = status
        self.configuredModel = configuredModel
    }

    /// Reads what `json` wrote; nil when it is not a hosted record.
    package init?(json: JSONValue) {
        guard let hosted = json["hosted"] else { return nil }
        settings = Settings(
            provider: json["provider"]?.stringValue ?? "", endpoint: json["endpoint"]?.stringValue ?? "",
            baseModel: json["base_model"]?.stringValue ?? "", epochs: json["epochs"]?.stringValue ?? "auto",
            suffix: json["suffix"]?.stringValue ?? "", seed: json["seed"]?.intValue,
            examples: json["examples"]?.intValue ?? 0, validationExamples: json["validation_examples"]?.intValue ?? 0,
            dataHash: json["data_hash"]?.stringValue ?? "", revision: json["revision"]?.stringValue ?? "")
        jobID = hosted["job_id"]?.stringValue ?? ""
        status = hosted["status"]?.stringValue ?? ""
        trainingFile = hosted["training_file"]?.stringValue
        validationFile = hosted["validation_file"]?.stringValue
        configuredModel = hosted["configured_model"]?.stringValue ?? ""
        started = hosted["started"]?.stringValue
        fineTunedModel = hosted["fine_tuned_model"]?.stringValue
        trainedTokens = json["trained_tokens"]?.intValue
        hyperparameters = json["hyperparameters"].flatMap { $0 == .null ? nil : $0 }
        wallSeconds = json["wall_seconds"]?.doubleValue
        priceTrainPerMillion = json["price_train_per_million"]?.doubleValue
        costUSD = json["cost_usd"]?.doubleValue
        trainInputs = json["train_inputs"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// The settings alone, as a hosted record's `training` begins.
    package var settingsJSON: JSONValue {
        [
            "format": .string(Settings.format), "provider": .string(settings.provider),
            "endpoint": .string(settings.endpoint), "base_model": .string(settings.baseModel),
            "epochs": .string(settings.epochs), "suffix": .string(settings.suffix),
            "seed": settings.seed.map { .number(Double($0)) } ?? .null,
            "examples": .number(Double(settings.examples)),
            "validation_examples": .number(Double(settings.validationExamples)),
            "data_hash": .string(settings.dataHash), "revision": .string(settings.revision),
        ]
    }

    package var json: JSONValue {
        var object = settingsJSON.objectValue ?? [:]
        func optional<T>(_ value: T?, _ make: (T) -> JSONValue) -> JSONValue { value.map(make) ?? .null }
        object["hosted"] = [
            "job_id": .string(jobID), "status": .string(status),
            "training_file": optional(trainingFile) { .string($0) },
            "validation_file": optional(validationFile) { .string($0) },
            "configured_model": .string(configuredModel), "started": optional(started) { .string($0) },
            "fine_tuned_model": optional(fineTunedModel) { .string($0) },
        ]
        object["trained_tokens"] = optional(trainedTokens) { .number(Double($0)) }
        object["hyperparameters"] = hyperparameters ?? .null
        object["wall_seconds"] = optional(wallSeconds) { .number($0) }
        object["price_train_per_million"] = optional(priceTrainPerMillion) { .number($0) }
        object["cost_usd"] = optional(costUSD) { .number($0) }
        object["train_inputs"] = .array(trainInputs.map { .string($0) })
        return .object(object)
    }
}
