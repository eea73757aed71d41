import Foundation
import WorkbenchCore

/// How many passes over the training data a hosted job makes: a number, or the provider's choice.
package enum FineTuningEpochs: Sendable, Hashable, CustomStringConvertible {
    /// The provider picks from the data's size (OpenAI: 3 for mid-sized sets, more for small ones).
    case auto
    case count(Int)

    var json: JSONValue {
        switch self {
        case .auto: "auto"
        case .count(let count): .number(Double(count))
        }
    }

    package var description: String {
        switch self {
        case .auto: "auto"
        case .count(let count): String(count)
        }
    }
}

/// What a hosted fine-tuning job is asked to do (`POST …/fine_tuning/jobs`).
package struct FineTuningJobRequest: Sendable, Hashable {
    /// The base model to tune: OpenAI's model id, or on Azure the model behind a deployment.
    package var model: String
    package var trainingFile: String
    package var validationFile: String?
    package var epochs: FineTuningEpochs
    /// Text the provider puts into the tuned model's name, so a person can tell it apart.
    package var suffix: String?
    package var seed: Int?

    package init(
        model: String, trainingFile: String, validationFile: String? = nil, epochs: FineTuningEpochs = .auto,
        suffix: String? = nil, seed: Int? = nil
    ) {
        self.model = model
        self.trainingFile = trainingFile
        self.validationFile = validationFile
        self.epochs = epochs
        self.suffix = suffix
        self.seed = seed
    }

    var json: JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(model), "training_file": .string(trainingFile),
            "hyperparameters": ["n_epochs": epochs.json],
        ]
        if let validationFile { body["validation_file"] = .string(validationFile) }
        if let suffix { body["suffix"] = .string(suffix) }
        if let seed { body["seed"] = .number(Double(seed)) }
        return .object(body)
    }
}

/// The settings a job trained with, as the provider settled them (nil where it has not yet,
/// or says `auto`).
package struct FineTuningHyperparameters: Sendable, Hashable {
    package var epochs: Int?
    package var batchSize: Int?
    package var learningRateMultiplier: Double?

    package init(epochs: Int? = nil, batchSize: Int? = nil, learningRateMultiplier: Double? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRateMultiplier = learningRateMultiplier
    }

    /// `{"n_epochs": …, "batch_size": …, "learning_rate_multiplier": …}`, the settled ones only.
    package var json: JSONValue {
        var fields: [String: JSONValue] = [:]
        if let epochs { fields["n_epochs"] = .number(Double(epochs)) }
        if let batchSize { fields["batch_size"] = .number(Double(batchSize)) }
        if let learningRateMultiplier { fields["learning_rate_multiplier"] = .number(learningRateMultiplier) }
        return .object(fields)
    }
}

/// A hosted fine-tuning job as the provider last described it.
package struct FineTuningJob: Sendable, Hashable {
    package enum Status: Sendable, Hashable, CustomStringConvertible {
        case validatingFiles, queued, running, succeeded, failed, cancelled
        /// A status this version of pwb does not know (Azure's `notRunning`, a new one): not final.
        case other(String)

        init(_ text: String) {
            switch text.lowercased() {
            case "validating_files": self = .validatingFiles
            // Azure's earlier API versions say `created`, `pending` and `notRunning` before a job runs.
            case "queued", "pending", "created", "notrunning": self = .queued
            case "running": self = .running
            case "succeeded": self = .succeeded
            case "failed": self = .failed
            case "cancelled", "canceled": self = .cancelled
            default: self = .other(text)
            }
        }

        /// Whether the job has ended and will not change again.
        package var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }

        package var description: String {
            switch self {
            case .validatingFiles: "validating files"
            case .queued: "queued"
            case .running: "running"
            case .succeeded: "succeeded"
            case .failed: "failed"
            case .cancelled: "cancelled"
            case .other(let text): text
            }
        }
    }

    package var id: String
    package var status: Status
    /// The model it tunes.
    package var model: String?
    /// The tuned model's name, once the job succeeded: what requests then name as their model
    /// (OpenAI), or what a deployment is made from (Azure).
    package var fineTunedModel: String?
    /// The tokens billed: the training file's tokens times the epochs.
    package var trainedTokens: Int?
    package var hyperparameters: FineTuningHyperparameters
    package var trainingFile: String?
    package var validationFile: String?
    /// Why a failed job failed, in the provider's words made one line.
    package var error: String?
    package var createdAt: Date?
    package var finishedAt: Date?
    package var estimatedFinish: Date?

    package init(
        id: String, status: Status, model: String? = nil, fineTunedModel: String? = nil, trainedTokens: Int? = nil,
        hyperparameters: FineTuningHyperparameters = FineTuningHyperparameters(), trainingFile: String? = nil,
        validationFile: String? = nil, error: String? = nil, createdAt: Date? = nil, finishedAt: Date? = nil,
        estimatedFinish: Date? = nil
    ) {
        self.id = id
        self.status = status
        self.model = model
        self.fineTunedModel = fineTunedModel
        self.trainedTokens = trainedTokens
        self.hyperparameters = hyperparameters
        self.trainingFile = trainingFile
        self.validationFile = validationFile
        self.error = error
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.estimatedFinish = estimatedFinish
    }
}

/// One line of a job's log: `Step 40/120: training loss=0.21`, `Fine-tuning job successfully completed`.
package struct FineTuningEvent: Sendable, Hashable {
    package var id: String
    package var createdAt: Date?
    /// `info`, `warn` or `error`.
    package var level: String
    package var message: String

    package init(id: String, createdAt: Date? = nil, level: String = "info", message: String) {
        self.id = id
        self.createdAt = createdAt
        self.level = level
        self.message = message
    }
}

/// A file the provider holds for fine-tuning.
package struct UploadedFile: Sendable, Hashable {
    package var id: String
    package var bytes: Int?
    /// `uploaded` or `processed` (ready), `pending` or `running` (Azure still checks it), `error`.
    package var status: String?
    /// Why the provider refused it, when it did.
    package var statusDetails: String?

    package init(id: String, bytes: Int? = nil, status: String? = nil, statusDetails: String? = nil) {
        self.id = id
        self.bytes = bytes
        self.status = status
        self.statusDetails = statusDetails
    }

    /// Whether the provider is still checking the file (Azure), so a job cannot use it yet.
    package var isBeingChecked: Bool { ["pending", "running"].contains(status?.lowercased() ?? "") }

    /// Whether the provider refused the file or no longer has it.
    package var isRefused: Bool { ["error", "deleted", "deleting"].contains(status?.lowercased() ?? "") }
}

/// A hosted fine-tuning job or its data ended otherwise than asked; each says so in one sentence
/// naming the job or file and the provider's URL.
package enum FineTuningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The job failed; `message` is the provider's reason.
    case jobFailed(job: String, url: String, message: String)
    /// The job was cancelled (here or elsewhere) before it finished.
    case jobCancelled(job: String, url: String)
    /// The job succeeded but names no tuned model.
    case noTunedModel(job: String, url: String)
    /// The provider refused an uploaded file (`message` says why) or did not finish checking it in time.
    case fileRefused(file: String, url: String, message: String)
    /// The job was still running when the time allowed for waiting ran out; it goes on.
    case stillRunning(job: String, url: String, status: FineTuningJob.Status, waitedSeconds: Double)

    package var description: String {
        switch self {
        case .jobFailed(let job, let url, let message):
            return
                "fine-tuning job \(job) at \(url) failed: \(message.isEmpty ? "the provider gave no reason" : message)"
        case .jobCancelled(let job, let url):
            return "fine-tuning job \(job) at \(url) was cancelled before it finished; ask again to start a new one"
        case .noTunedModel(let job, let url):
            return
                "fine-tuning job \(job) at \(url) succeeded but names no tuned model; look it up in the provider's console"
        case .fileRefused(let file, let url, let message):
            return "\(url) refused the fine-tuning data \(file): \(message)"
        case .stillRunning(let job, let url, let status, let waited):
            return
                "fine-tuning job \(job) at \(url) is still \(status) after \(JSONNumber.format(waited.rounded())) s of waiting; it goes on, and asking again waits for it"
        }
    }
}

extension FineTuningError: ExitCoded {
    package var exitCode: Int32 { ExitCode.runtimeUnavailable }
}
