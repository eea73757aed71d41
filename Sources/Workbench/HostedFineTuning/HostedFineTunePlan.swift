import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// What `pwb finetune EVALSET --model NAME` is asked: a hosted fine-tuning job for a configured
/// model whose provider has a fine-tuning API (OpenAI, Azure OpenAI).
package struct HostedFineTuneOptions: Sendable {
    package var evalset: String
    /// `template/variant[@N]` whose zero-shot prompt the model learns to answer; nil picks the
    /// only template naming the eval set.
    package var template: String?
    /// The configured model (`.pwb/config.json`) whose provider runs the job.
    package var model: String
    /// Passes over the data; nil lets the provider choose (`auto`).
    package var epochs: Int?
    /// Train on the first N train cases (the validation part is held out of them); nil on all.
    package var examples: Int?
    /// Text the provider puts into the tuned model's name; nil: `pwb-` and the variant.
    package var suffix: String?
    package var seed: Int?
    /// Dollars per million trained tokens, for the plan's estimate and the record's cost.
    package var priceTrainPerMillion: Double?
    /// How often the job is asked about while it runs.
    package var pollInterval: Duration = .seconds(15)
    /// How long to wait for the job before giving the command back (it goes on); nil: until it ends.
    package var waitLimit: Duration? = .seconds(4 * 3600)
    /// When stopped (Ctrl-C), cancel the job at the provider instead of leaving it running.
    package var cancelOnStop = false

    package init(evalset: String, model: String) {
        self.evalset = evalset
        self.model = model
    }

    /// The fewest examples a job trains on: OpenAI refuses a training file of fewer than 10.
    package static let minimumExamples = 10
    /// Every fifth train case is held out for the validation file, when at least this many
    /// remain to train on.
    static let validationEvery = 5
}

/// What a hosted job would do and cost, worked out before anything is sent: the command shows it
/// and asks before `Workspace.hostedFineTune` spends anything.
package struct HostedFineTunePlan: Sendable {
    package enum Action: Sendable, Equatable {
        /// Upload the data and start a job: this is what costs money.
        case train
        /// A job on the same data and settings is under way: wait for it (costs nothing more).
        case resume(job: String)
        /// A tuned model from the same data and settings exists: nothing to do.
        case reuse(tunedModel: String)
    }

    package var action: Action
    /// The record's name, as `pwb adapters` lists it.
    package var name: String
    /// The configured model the job runs for.
    package var model: String
    package var provider: ProviderKind
    /// Where the job runs (the first endpoint).
    package var endpoint: String
    /// The model the job tunes.
    package var baseModel: String
    package var revision: String
    package var evalset: String
    package var trainExamples: Int
    package var validationExamples: Int
    package var epochs: FineTuningEpochs
    /// The epochs the estimates assume: those asked for, or what OpenAI's rule for `auto` picks
    /// for this many examples (3, more for small sets, fewer for very large ones).
    package var estimatedEpochs: Int
    /// The training file's tokens, estimated (about four characters of English a token, one
    /// character of Japanese or Chinese, a few more for each message's framing).
    package var tokensPerEpoch: Int
    /// What the provider bills: the training file's tokens times the epochs.
    package var estimatedTrainedTokens: Int { tokensPerEpoch * estimatedEpochs }
    /// The one-off cost at `priceTrainPerMillion`, when a price was given.
    package var estimatedCostUSD: Double? {
        priceTrainPerMillion.map { Double(estimatedTrainedTokens) * $0 / 1_000_000 }
    }
    package var priceTrainPerMillion: Double?
    /// SHA-256 of the training and validation files: the same data asks for the same job.
    package var dataHash: String

    let configuration: ModelConfiguration
    let evalsetID: Int
    let revisionID: Int
    let training: String
    let validation: String?
    let suffix: String
    let seed: Int?
    /// What was asked: a job with equal settings is the same job.
    let settings: HostedTraining.Settings
    /// What it teaches (validation cases included), for its record.
    let trainInputs: [String]
    /// The command that asks for this plan again, which waits for its job.
    let resumeCommand: String
    let pollInterval: Duration
    let waitLimit: Duration?
    let cancelOnStop: Bool

    /// The plan in words, one line per fact, for the command to print before it asks.
    package var summary: [String] {
        var lines = [
            "model \(model) (\(provider.rawValue), \(endpoint)): a fine-tuning job on \(baseModel)",
            "data: \(trainExamples) train cases of eval set \(evalset) as chat examples with \(revision)'s prompt"
                + (validationExamples > 0 ? ", \(validationExamples) more held out for validation" : ""),
            "epochs: \(epochs)" + (epochs == .auto ? " (the estimate assumes \(estimatedEpochs))" : ""),
            "trained tokens: about \(tokensPerEpoch) a pass, \(estimatedTrainedTokens) in all (an estimate; the provider counts them)",
        ]
        if let cost = estimatedCostUSD, let price = priceTrainPerMillion {
            lines.append(
                "cost: about $\(String(format: "%.2f", cost)) at $\(JSONValue.number(price).serialized()) per million trained tokens"
            )
        }
        switch action {
        case .train: break
        case .resume(let job): lines.append("job \(job) on this data is under way: waiting for it costs nothing more")
        case .reuse(let tuned): lines.append("already tuned on this data: \(tuned); nothing is sent")
        }
        return lines
    }

    /// Whether carrying out the plan spends money: only starting a job does.
    package var spends: Bool { action == .train }

    /// The record of its job, as it starts.
    func record(job: String, status: String) -> HostedTraining {
        var record = HostedTraining(settings: settings, jobID: job, status: status, configuredModel: model)
        record.priceTrainPerMillion = priceTrainPerMillion
        record.trainInputs = trainInputs
        return record
    }
}

/// How far a hosted job is.
package struct HostedFineTuneProgress: Sendable {
    package enum Phase: Sendable, Equatable {
        case uploading, checkingFiles, starting, training
    }

    package var phase: Phase
    package var job: String?
    package var status: FineTuningJob.Status?
    package var trainedTokens: Int?
    /// The job's log lines new since the last report, oldest first.
    package var events: [FineTuningEvent]
    /// Seconds since this command began.
    package var elapsed: Double
}

/// A tuned model, trained now, waited for or found from before.
package struct HostedFineTuneResult: Sendable {
    /// Its record, as `pwb adapters` lists it (`training.hosted`).
    package var adapter: AdapterRecord
    /// The tuned model's name at the provider.
    package var tunedModel: String
    /// True when an earlier job's model was reused and nothing was sent.
    package var reused: Bool
    /// The configured model serving the tuned one, to measure it: ready on OpenAI; nil on Azure,
    /// where it must be deployed first (`deployment`).
    package var tunedConfiguration: ModelConfiguration?
    /// Azure: the control-plane step that deploys the tuned model (pwb holds no credentials for
    /// it), after which it is measured under the deployment's name.
    package var deployment: Message?
}

/// A hosted fine-tune stopped (Ctrl-C): before its job started (nothing spent), or while waiting
/// for it (the job goes on, unless it was cancelled as asked).
package struct HostedFineTuneStopped: Error, Sendable, CustomStringConvertible {
    /// The job, when one had started.
    package var job: String?
    package var url: String
    package var cancelled: Bool
    /// The command that waits for the job again (it asks for the same job).
    package var resume: String

    /// What happened and what to do, the command named for the interface to word.
    package var message: Message {
        guard let job else {
            return "stopped before a fine-tuning job was started at \(url); nothing was spent"
        }
        return cancelled
            ? "fine-tuning job \(job) at \(url) was cancelled; asking again starts a new one"
            : "stopped waiting; fine-tuning job \(job) goes on at \(url): \(command: resume) waits for it again (nothing more is spent), and with \(setting: "cancel") stops it"
    }
}

extension HostedFineTuneStopped: MessageError {
    package var exitCode: Int32 { ExitCode.interrupted }
}

/// The train cases as the files a job reads: one chat example a line, every fifth held out for
/// the validation file when at least `HostedFineTuneOptions.minimumExamples` remain to train on
/// (so the validation part spreads over the split as it was written).
struct HostedTrainingData {
    var training: String
    var validation: String?
    var trainExamples: Int
    var validationExamples: Int
    var tokensPerEpoch: Int
    /// SHA-256 of both files: the same data asks for the same job.
    var hash: String

    /// - Parameter revision: the prompt's reference, for the message when there is nothing to learn.
    init(_ examples: [[ChatMessage]], revision: String) throws {
        guard examples.contains(where: { !($0.last?.content.isEmpty ?? true) }) else {
            throw InputError(file: revision, "every train case expects an empty answer, so there is nothing to learn")
        }
        let every = HostedFineTuneOptions.validationEvery
        let holdOut = examples.count - examples.count / every >= HostedFineTuneOptions.minimumExamples
        let held = { (index: Int) in holdOut && index % every == every - 1 }
        let lines = examples.map { JSONValue.object(["messages": .array($0.map(\.json))]).serialized() + "\n" }
        let kept = examples.indices.filter { !held($0) }
        training = kept.map { lines[$0] }.joined()
        validation = holdOut ? examples.indices.filter(held).map { lines[$0] }.joined() : nil
        trainExamples = kept.count
        validationExamples = examples.count - kept.count
        tokensPerEpoch = kept.reduce(0) { $0 + TokenEstimate.tokens(messages: examples[$1]) }
        hash = SHA256.hex(training + "\u{0}" + (validation ?? ""))
    }
}

/// Rough token counts for the plan, before any tokenizer is at hand.
enum TokenEstimate {
    /// About four characters a token for text in Latin script and one a token for other scripts
    /// (a Japanese or Chinese character is one token or more in OpenAI's tokenizers).
    static func tokens(_ text: String) -> Int {
        var ascii = 0
        var other = 0
        for scalar in text.unicodeScalars {
            if scalar.isASCII { ascii += 1 } else { other += 1 }
        }
        return (ascii + 3) / 4 + other
    }

    /// A chat example's tokens: each message's text and its framing (about 4 tokens), and 3 for
    /// the example.
    static func tokens(messages: [ChatMessage]) -> Int {
        messages.reduce(3) { $0 + tokens($1.content) + 4 }
    }

    /// The epochs OpenAI's `auto` picks for `examples` (its data-preparation guide): 3, raised so
    /// a small set is seen at least 100 times in all (at most 25 epochs), lowered so a large one
    /// is seen at most 25,000 times (at least 1).
    static func autoEpochs(examples: Int) -> Int {
        guard examples > 0 else { return 3 }
        if examples * 3 < 100 { return min(25, 100 / examples) }
        if examples * 3 > 25_000 { return max(1, 25_000 / examples) }
        return 3
    }
}
