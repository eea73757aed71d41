import Foundation

/// One stored run as the advice shows it.
package struct RunSummary: Sendable, Hashable, Codable {
    package var run: Int
    package var variant: String
    package var strategy: String
    package var interval: Interval
    /// Cases with a score; `errors` are requests that failed.
    package var cases: Int
    package var errors: Int
    package var promptTokens: Double?
    package var latencyP50Milliseconds: Double?
    package var cachedShare: Double

    package init(
        run: Int, variant: String, strategy: String, interval: Interval, cases: Int, errors: Int,
        promptTokens: Double?, latencyP50Milliseconds: Double?, cachedShare: Double
    ) {
        self.run = run
        self.variant = variant
        self.strategy = strategy
        self.interval = interval
        self.cases = cases
        self.errors = errors
        self.promptTokens = promptTokens
        self.latencyP50Milliseconds = latencyP50Milliseconds
        self.cachedShare = cachedShare
    }
}

/// One step of the ladder as the advice shows it: what it measured, or why it measured nothing.
/// The terminal, JSON and HTML reports walk the advice's steps in the order they were climbed;
/// a new kind of step is a case here and its rendering.
package enum AdviceStep: Sendable, Hashable, Codable {
    case zeroShot(Advice.ZeroShot)
    case fewShot(Advice.FewShot)
    case retrieval(Advice.Retrieval)
    case fineTuning(Advice.FineTuned)
    case skipped(Advice.Skipped)

    private enum CodingKeys: String, CodingKey {
        case zeroShot, fewShot, retrieval, fineTuning, skipped
    }

    /// As JSON, one key naming the kind of step and its value: `{"few_shot": {…}}`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .zeroShot(let value): try container.encode(value, forKey: .zeroShot)
        case .fewShot(let value): try container.encode(value, forKey: .fewShot)
        case .retrieval(let value): try container.encode(value, forKey: .retrieval)
        case .fineTuning(let value): try container.encode(value, forKey: .fineTuning)
        case .skipped(let value): try container.encode(value, forKey: .skipped)
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "a step names no kind"))
        }
        switch key {
        case .zeroShot: self = .zeroShot(try container.decode(Advice.ZeroShot.self, forKey: key))
        case .fewShot: self = .fewShot(try container.decode(Advice.FewShot.self, forKey: key))
        case .retrieval: self = .retrieval(try container.decode(Advice.Retrieval.self, forKey: key))
        case .fineTuning: self = .fineTuning(try container.decode(Advice.FineTuned.self, forKey: key))
        case .skipped: self = .skipped(try container.decode(Advice.Skipped.self, forKey: key))
        }
    }

    /// The step's heading.
    package var title: String {
        switch self {
        case .zeroShot: "Zero-shot, every variant"
        case .fewShot: "Few-shot examples"
        case .retrieval: "Retrieval"
        case .fineTuning: "Fine-tuning"
        case .skipped(let skipped): skipped.title
        }
    }
}

/// What the advisor measured and decided, as one value: the terminal, JSON and HTML reports are
/// drawn from it, and it is stored as JSON.
package struct Advice: Sendable, Hashable, Codable {
    /// Bumped when the stored shape changes; advice stored in another shape is not read back.
    package static let currentFormat = 5

    /// A step that measured nothing, and why.
    package struct Skipped: Sendable, Hashable, Codable {
        package var title: String
        package var reason: Message

        package init(title: String, reason: Message) {
            self.title = title
            self.reason = reason
        }
    }

    package struct ZeroShot: Sendable, Hashable, Codable {
        package var variants: [RunSummary]
        package var best: String
        /// The best variant against each other one, paired, Holm-adjusted.
        package var comparisons: [VariantComparison]

        package init(variants: [RunSummary], best: String, comparisons: [VariantComparison]) {
            self.variants = variants
            self.best = best
            self.comparisons = comparisons
        }
    }

    package struct VariantComparison: Sendable, Hashable, Codable {
        package var variant: String
        package var comparison: Comparison

        package init(variant: String, comparison: Comparison) {
            self.variant = variant
            self.comparison = comparison
        }
    }

    package struct FewShot: Sendable, Hashable, Codable {
        /// `template/variant@N`, the zero-shot winner the examples are shown to.
        package var variant: String
        package var draws: Int
        package var maxShots: Int
        package var limitedBy: Message
        package var points: [FewShotPoint]

        package init(variant: String, draws: Int, maxShots: Int, limitedBy: Message, points: [FewShotPoint]) {
            self.variant = variant
            self.draws = draws
            self.maxShots = maxShots
            self.limitedBy = limitedBy
            self.points = points
        }
    }

    package struct FewShotPoint: Sendable, Hashable, Codable {
        package var k: Int
        /// One run per random draw of examples: each a rung of its own, a prompt one could ship.
        package var random: [RunSummary]
        package var similar: RunSummary

        package init(k: Int, random: [RunSummary], similar: RunSummary) {
            self.k = k
            self.random = random
            self.similar = similar
        }

        package var randomScores: [Double] { random.filter { $0.cases > 0 }.map(\.interval.estimate) }
        package var randomMean: Double? { randomScores.isEmpty ? nil : Statistics.mean(randomScores) }
    }

    package struct Retrieval: Sendable, Hashable, Codable {
        package var corpus: String
        package var passages: Int
        package var run: RunSummary
        /// Retrieval against the zero-shot rung, paired.
        package var comparison: Comparison

        package init(corpus: String, passages: Int, run: RunSummary, comparison: Comparison) {
            self.corpus = corpus
            self.passages = passages
            self.run = run
            self.comparison = comparison
        }
    }

    /// Fine-tuning, measured: LoRA adapters trained here on growing parts of the train split
    /// (`pwb advise --finetune`), a provider's fine-tuning job, or a served fine-tuned model
    /// (`--finetuned-model`); and what the tuned rung with the most data saves against the rung
    /// that would be chosen without it.
    package struct FineTuned: Sendable, Hashable, Codable {
        /// The served model (a provider's tuned model, or one named with `--finetuned-model`); nil
        /// when adapters were trained here.
        package var model: String?
        /// The provider's job that tuned it, when one did.
        package var job: HostedJob?
        /// The run of the tuned rung with the most training data.
        package var run: RunSummary
        package var adapters: [TunedAdapter] = []
        /// Least-squares slope of the adapters' scores over log2 of their train cases: the change
        /// per doubling of the data, as fine-tuning guidance states its gains. A description of
        /// what was measured (nil below two sizes), never part of the decision.
        package var gainPerDoubling: Double?
        /// The time the training was estimated to take, and the budget it was held to, seconds.
        package var estimatedSeconds: Double?
        package var budgetSeconds: Double?
        package var alternative: String?
        package var tokensSavedPerRequest: Double?
        package var savingPerRequest: Double?
        package var breakEvenRequests: Double?

        package init(model: String?, run: RunSummary) {
            self.model = model
            self.run = run
        }

        /// The least-squares slope of `score` over log2 of `trainCases`; nil below two sizes.
        package static func gainPerDoubling(_ points: [(trainCases: Int, score: Double)]) -> Double? {
            Statistics.leastSquares(points.map { log2(Double($0.trainCases)) }, points.map(\.score))?.slope
        }
    }

    /// A provider's fine-tuning job, as the advice names it.
    package struct HostedJob: Sendable, Hashable, Codable {
        package var id: String
        package var provider: String
        package var baseModel: String
        package var trainedTokens: Int?
        package var epochs: String
        package var wallSeconds: Double?
        package var costUSD: Double?
        /// True when a job from before on the same data was reused, and nothing was sent.
        package var reused: Bool

        package init(
            id: String, provider: String, baseModel: String, trainedTokens: Int?, epochs: String,
            wallSeconds: Double?, costUSD: Double?, reused: Bool
        ) {
            self.id = id
            self.provider = provider
            self.baseModel = baseModel
            self.trainedTokens = trainedTokens
            self.epochs = epochs
            self.wallSeconds = wallSeconds
            self.costUSD = costUSD
            self.reused = reused
        }
    }

    /// Rounds of more dev cases for the contenders while the decision was open.
    package struct FollowUp: Sendable, Hashable, Codable {
        package struct Round: Sendable, Hashable, Codable {
            /// Cases each contender was scored on after the round, and the contenders by label.
            package var cases: Int
            package var contenders: [String]
            package var requests: Int

            package init(cases: Int, contenders: [String], requests: Int) {
                self.cases = cases
                self.contenders = contenders
                self.requests = requests
            }
        }

        /// The most requests the follow-up could send, stated before it began.
        package var requestBudget: Int
        package var rounds: [Round] = []
        /// Why it stopped: settled, every dev case scored, or the budget spent.
        package var ended: Message = ""

        package init(requestBudget: Int) {
            self.requestBudget = requestBudget
        }
    }

    /// One-token scores checked against generated ones, for the rungs that decide.
    package struct ReaderCheck: Sendable, Hashable, Codable {
        package struct Entry: Sendable, Hashable, Codable {
            package var rung: String
            package var oneToken: Interval
            package var generated: Interval
            /// Generated against one-token, paired on the same cases.
            package var comparison: Comparison
            /// The two readers disagree beyond noise (the paired test is significant).
            package var disagrees: Bool { comparison.isSignificant }

            package init(rung: String, oneToken: Interval, generated: Interval, comparison: Comparison) {
                self.rung = rung
                self.oneToken = oneToken
                self.generated = generated
                self.comparison = comparison
            }
        }

        package var entries: [Entry]
        /// The decision among the rungs that decide, from their generated scores.
        package var decision: Decision?
        /// The generated rungs that decision was made over, in the order of `entries`.
        package var rungs: [Rung]

        package init(entries: [Entry], decision: Decision?, rungs: [Rung]) {
            self.entries = entries
            self.decision = decision
            self.rungs = rungs
        }
    }

    /// One adapter trained by the advisor, as scored on the ladder's dev cases.
    package struct TunedAdapter: Sendable, Hashable, Codable {
        package var name: String
        package var trainCases: Int
        package var epochs: Int
        package var rank: Int
        package var trainingSeconds: Double
        package var examplesPerSecond: Double
        package var run: RunSummary
        /// Against the best prompting rung (by score), paired on the same cases; unadjusted: the
        /// decision's own tests are the Holm-corrected ones in the ladder.
        package var againstPrompting: VariantComparison?

        package init(
            name: String, trainCases: Int, epochs: Int, rank: Int, trainingSeconds: Double, examplesPerSecond: Double,
            run: RunSummary
        ) {
            self.name = name
            self.trainCases = trainCases
            self.epochs = epochs
            self.rank = rank
            self.trainingSeconds = trainingSeconds
            self.examplesPerSecond = examplesPerSecond
            self.run = run
        }
    }

    /// What a trivial answer scores on a label task.
    package struct Baseline: Sendable, Hashable, Codable {
        package var labels: Int
        package var chance: Double
        package var majorityLabel: String
        package var majority: Double
        package var rate: Double { max(chance, majority) }

        package init(labels: Int, chance: Double, majorityLabel: String, majority: Double) {
            self.labels = labels
            self.chance = chance
            self.majorityLabel = majorityLabel
            self.majority = majority
        }
    }

    package var format = Advice.currentFormat
    package var id: Int?
    package var createdAt: String?
    package var template: String
    package var evalset: String
    package var model: String
    package var devCases: Int
    package var casesPerRung: Int
    package var trainCases: Int
    package var target: Double
    package var volumePerMonth: Double?
    package var prices: Prices?
    package var fineTuneCostUSD: Double?
    package var baseline: Baseline?
    /// How much worse than the best a cheaper rung may be and be chosen, and what a correct
    /// answer is worth (`--value`), as the decision used them.
    package var margin: Double
    package var value: Double?
    /// The ladder's steps, in the order they were climbed.
    package var steps: [AdviceStep]
    /// The learning curve's scenario; never part of the decision.
    package var projection: Projection?
    package var rungs: [Rung]
    package var decision: Decision?
    /// The rule the decision followed, in words.
    package var rule: String
    /// Rounds of more cases scored for the contenders while the decision was open.
    package var followUp: FollowUp?
    /// About how many cases would settle a decision the data left open (80% power, if the
    /// differences seen held).
    package var casesNeeded: Int?
    /// One-token scores against generated ones for the rungs that decide (`--reader one-token`).
    package var readerCheck: ReaderCheck?
    package var elapsedSeconds: Double
    /// How every rung read its answers (nil in advice stored before readers were named, which
    /// read them from one token where that told the labels apart).
    package var reader: Reader?
    /// The server's speeds every rung's local compute is reckoned at; nil when no answer had
    /// tokens to measure them by.
    package var speeds: ComputeSpeeds?

    package init(
        template: String, evalset: String, model: String, devCases: Int, casesPerRung: Int, trainCases: Int,
        target: Double, margin: Double, value: Double?, volumePerMonth: Double?, prices: Prices?,
        fineTuneCostUSD: Double?, baseline: Baseline?, steps: [AdviceStep], projection: Projection?, rungs: [Rung],
        decision: Decision?, rule: String, elapsedSeconds: Double
    ) {
        self.template = template
        self.evalset = evalset
        self.model = model
        self.devCases = devCases
        self.casesPerRung = casesPerRung
        self.trainCases = trainCases
        self.target = target
        self.volumePerMonth = volumePerMonth
        self.prices = prices
        self.fineTuneCostUSD = fineTuneCostUSD
        self.baseline = baseline
        self.margin = margin
        self.value = value
        self.steps = steps
        self.projection = projection
        self.rungs = rungs
        self.decision = decision
        self.rule = rule
        self.elapsedSeconds = elapsedSeconds
    }

    /// The zero-shot step: every variant, the best going on up the ladder.
    package var zeroShot: ZeroShot? {
        for case .zeroShot(let value) in steps { return value }
        return nil
    }

    /// The few-shot step, when it measured something.
    package var fewShot: FewShot? {
        for case .fewShot(let value) in steps { return value }
        return nil
    }

    /// Why the step titled `title` measured nothing; nil when it measured something or did not run.
    package func skipped(_ title: String) -> Message? {
        for case .skipped(let skipped) in steps where skipped.title == title { return skipped.reason }
        return nil
    }

    /// The fine-tuning step, when it measured something.
    package var fineTuning: FineTuned? {
        for case .fineTuning(let value) in steps { return value }
        return nil
    }

    package var cost: CostModel { CostModel(prices: prices, volumePerMonth: volumePerMonth) }

    /// The decision that stands: from generated scores when one-token scores were checked
    /// against them, else the ladder's.
    package var finalDecision: (decision: Decision, rungs: [Rung])? {
        if let check = readerCheck, let decision = check.decision { return (decision, check.rungs) }
        return decision.map { ($0, rungs) }
    }

    /// The rung the decision chose.
    package var recommended: Rung? { finalDecision.map { $0.rungs[$0.decision.chosen] } }

    /// The zero-shot rung: the ladder's first.
    package var zeroShotRung: Rung? { rungs.first { $0.kind == .zeroShot } }

    /// How much wider intervals are with the cases per rung than with every dev case.
    package var intervalWidening: Double { Statistics.widening(capped: casesPerRung, full: devCases) }
}
