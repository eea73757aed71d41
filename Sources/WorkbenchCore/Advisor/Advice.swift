import Foundation

/// One stored run as the advice shows it.
public struct RunSummary: Sendable, Hashable, Codable {
    public var run: Int
    public var variant: String
    public var strategy: String
    public var interval: Interval
    /// Cases with a score; `errors` are requests that failed.
    public var cases: Int
    public var errors: Int
    public var promptTokens: Double?
    public var latencyP50Milliseconds: Double?
    public var cachedShare: Double

    public init(
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
public enum AdviceStep: Sendable, Hashable, Codable {
    case zeroShot(Advice.ZeroShot)
    case fewShot(Advice.FewShot)
    case retrieval(Advice.Retrieval)
    case fineTuning(Advice.FineTuned)
    case skipped(Advice.Skipped)

    private enum CodingKeys: String, CodingKey {
        case zeroShot, fewShot, retrieval, fineTuning, skipped
    }

    /// As JSON, one key naming the kind of step and its value: `{"few_shot": {…}}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .zeroShot(let value): try container.encode(value, forKey: .zeroShot)
        case .fewShot(let value): try container.encode(value, forKey: .fewShot)
        case .retrieval(let value): try container.encode(value, forKey: .retrieval)
        case .fineTuning(let value): try container.encode(value, forKey: .fineTuning)
        case .skipped(let value): try container.encode(value, forKey: .skipped)
        }
    }

    public init(from decoder: any Decoder) throws {
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
    public var title: String {
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
public struct Advice: Sendable, Hashable, Codable {
    /// Bumped when the stored shape changes; advice stored in another shape is not read back.
    public static let currentFormat = 5

    /// A step that measured nothing, and why.
    public struct Skipped: Sendable, Hashable, Codable {
        public var title: String
        public var reason: Message

        public init(title: String, reason: Message) {
            self.title = title
            self.reason = reason
        }
    }

    public struct ZeroShot: Sendable, Hashable, Codable {
        public var variants: [RunSummary]
        public var best: String
        /// The best variant against each other one, paired, Holm-adjusted.
        public var comparisons: [VariantComparison]

        public init(variants: [RunSummary], best: String, comparisons: [VariantComparison]) {
            self.variants = variants
            self.best = best
            self.comparisons = comparisons
        }
    }

    public struct VariantComparison: Sendable, Hashable, Codable {
        public var variant: String
        public var comparison: Comparison

        public init(variant: String, comparison: Comparison) {
            self.variant = variant
            self.comparison = comparison
        }
    }

    public struct FewShot: Sendable, Hashable, Codable {
        /// `template/variant@N`, the zero-shot winner the examples are shown to.
        public var variant: String
        public var draws: Int
        public var maxShots: Int
        public var limitedBy: Message
        public var points: [FewShotPoint]

        public init(variant: String, draws: Int, maxShots: Int, limitedBy: Message, points: [FewShotPoint]) {
            self.variant = variant
            self.draws = draws
            self.maxShots = maxShots
            self.limitedBy = limitedBy
            self.points = points
        }
    }

    public struct FewShotPoint: Sendable, Hashable, Codable {
        public var k: Int
        /// One run per random draw of examples: each a rung of its own, a prompt one could ship.
        public var random: [RunSummary]
        public var similar: RunSummary

        public init(k: Int, random: [RunSummary], similar: RunSummary) {
            self.k = k
            self.random = random
            self.similar = similar
        }

        public var randomScores: [Double] { random.filter { $0.cases > 0 }.map(\.interval.estimate) }
        public var randomMean: Double? { randomScores.isEmpty ? nil : Statistics.mean(randomScores) }
    }

    public struct Retrieval: Sendable, Hashable, Codable {
        public var corpus: String
        public var passages: Int
        public var run: RunSummary
        /// Retrieval against the zero-shot rung, paired.
        public var comparison: Comparison

        public init(corpus: String, passages: Int, run: RunSummary, comparison: Comparison) {
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
    public struct FineTuned: Sendable, Hashable, Codable {
        /// The served model (a provider's tuned model, or one named with `--finetuned-model`); nil
        /// when adapters were trained here.
        public var model: String?
        /// The provider's job that tuned it, when one did.
        public var job: HostedJob?
        /// The run of the tuned rung with the most training data.
        public var run: RunSummary
        public var adapters: [TunedAdapter] = []
        /// Least-squares slope of the adapters' scores over log2 of their train cases: the change
        /// per doubling of the data, as fine-tuning guidance states its gains. A description of
        /// what was measured (nil below two sizes), never part of the decision.
        public var gainPerDoubling: Double?
        /// The time the training was estimated to take, and the budget it was held to, seconds.
        public var estimatedSeconds: Double?
        public var budgetSeconds: Double?
        public var alternative: String?
        public var tokensSavedPerRequest: Double?
        public var savingPerRequest: Double?
        public var breakEvenRequests: Double?

        public init(model: String?, run: RunSummary) {
            self.model = model
            self.run = run
        }

        /// The least-squares slope of `score` over log2 of `trainCases`; nil below two sizes.
        public static func gainPerDoubling(_ points: [(trainCases: Int, score: Double)]) -> Double? {
            Statistics.leastSquares(points.map { log2(Double($0.trainCases)) }, points.map(\.score))?.slope
        }
    }

    /// A provider's fine-tuning job, as the advice names it.
    public struct HostedJob: Sendable, Hashable, Codable {
        public var id: String
        public var provider: String
        public var baseModel: String
        public var trainedTokens: Int?
        public var epochs: String
        public var wallSeconds: Double?
        public var costUSD: Double?
        /// True when a job from before on the same data was reused, and nothing was sent.
        public var reused: Bool

        public init(
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
    public struct FollowUp: Sendable, Hashable, Codable {
        public struct Round: Sendable, Hashable, Codable {
            /// Cases each contender was scored on after the round, and the contenders by label.
            public var cases: Int
            public var contenders: [String]
            public var requests: Int

            public init(cases: Int, contenders: [String], requests: Int) {
                self.cases = cases
                self.contenders = contenders
                self.requests = requests
            }
        }

        /// The most requests the follow-up could send, stated before it began.
        public var requestBudget: Int
        public var rounds: [Round] = []
        /// Why it stopped: settled, every dev case scored, or the budget spent.
        public var ended: Message = ""

        public init(requestBudget: Int) {
            self.requestBudget = requestBudget
        }
    }

    /// One-token scores checked against generated ones, for the rungs that decide.
    public struct ReaderCheck: Sendable, Hashable, Codable {
        public struct Entry: Sendable, Hashable, Codable {
            public var rung: String
            public var oneToken: Interval
            public var generated: Interval
            /// Generated against one-token, paired on the same cases.
            public var comparison: Comparison
            /// The two readers disagree beyond noise (the paired test is significant).
            public var disagrees: Bool { comparison.isSignificant }

            public init(rung: String, oneToken: Interval, generated: Interval, comparison: Comparison) {
                self.rung = rung
                self.oneToken = oneToken
                self.generated = generated
                self.comparison = comparison
            }
        }

        public var entries: [Entry]
        /// The decision among the rungs that decide, from their generated scores.
        public var decision: Decision?
        /// The generated rungs that decision was made over, in the order of `entries`.
        public var rungs: [Rung]

        public init(entries: [Entry], decision: Decision?, rungs: [Rung]) {
            self.entries = entries
            self.decision = decision
            self.rungs = rungs
        }
    }

    /// One adapter trained by the advisor, as scored on the ladder's dev cases.
    public struct TunedAdapter: Sendable, Hashable, Codable {
        public var name: String
        public var trainCases: Int
        public var epochs: Int
        public var rank: Int
        public var trainingSeconds: Double
        public var examplesPerSecond: Double
        public var run: RunSummary
        /// Against the best prompting rung (by score), paired on the same cases; unadjusted: the
        /// decision's own tests are the Holm-corrected ones in the ladder.
        public var againstPrompting: VariantComparison?

        public init(
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
    public struct Baseline: Sendable, Hashable, Codable {
        public var labels: Int
        public var chance: Double
        public var majorityLabel: String
        public var majority: Double
        public var rate: Double { max(chance, majority) }

        public init(labels: Int, chance: Double, majorityLabel: String, majority: Double) {
            self.labels = labels
            self.chance = chance
            self.majorityLabel = majorityLabel
            self.majority = majority
        }
    }

    public var format = Advice.currentFormat
    public var id: Int?
    public var createdAt: String?
    public var template: String
    public var evalset: String
    public var model: String
    public var devCases: Int
    public var casesPerRung: Int
    public var trainCases: Int
    public var target: Double
    public var volumePerMonth: Double?
    public var prices: Prices?
    public var fineTuneCostUSD: Double?
    public var baseline: Baseline?
    /// How much worse than the best a cheaper rung may be and be chosen, and what a correct
    /// answer is worth (`--value`), as the decision used them.
    public var margin: Double
    public var value: Double?
    /// The ladder's steps, in the order they were climbed.
    public var steps: [AdviceStep]
    /// The learning curve's scenario; never part of the decision.
    public var projection: Projection?
    public var rungs: [Rung]
    public var decision: Decision?
    /// The rule the decision followed, in words.
    public var rule: String
    /// Rounds of more cases scored for the contenders while the decision was open.
    public var followUp: FollowUp?
    /// About how many cases would settle a decision the data left open (80% power, if the
    /// differences seen held).
    public var casesNeeded: Int?
    /// One-token scores against generated ones for the rungs that decide (`--reader one-token`).
    public var readerCheck: ReaderCheck?
    public var elapsedSeconds: Double
    /// How every rung read its answers (nil in advice stored before readers were named, which
    /// read them from one token where that told the labels apart).
    public var reader: Reader?
    /// The server's speeds every rung's local compute is reckoned at; nil when no answer had
    /// tokens to measure them by.
    public var speeds: ComputeSpeeds?

    public init(
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
    public var zeroShot: ZeroShot? {
        for case .zeroShot(let value) in steps { return value }
        return nil
    }

    /// The few-shot step, when it measured something.
    public var fewShot: FewShot? {
        for case .fewShot(let value) in steps { return value }
        return nil
    }

    /// Why the step titled `title` measured nothing; nil when it measured something or did not run.
    public func skipped(_ title: String) -> Message? {
        for case .skipped(let skipped) in steps where skipped.title == title { return skipped.reason }
        return nil
    }

    /// The fine-tuning step, when it measured something.
    public var fineTuning: FineTuned? {
        for case .fineTuning(let value) in steps { return value }
        return nil
    }

    public var cost: CostModel { CostModel(prices: prices, volumePerMonth: volumePerMonth) }

    /// The decision that stands: from generated scores when one-token scores were checked
    /// against them, else the ladder's.
    public var finalDecision: (decision: Decision, rungs: [Rung])? {
        if let check = readerCheck, let decision = check.decision { return (decision, check.rungs) }
        return decision.map { ($0, rungs) }
    }

    /// The rung the decision chose.
    public var recommended: Rung? { finalDecision.map { $0.rungs[$0.decision.chosen] } }

    /// The zero-shot rung: the ladder's first.
    public var zeroShotRung: Rung? { rungs.first { $0.kind == .zeroShot } }

    /// How much wider intervals are with the cases per rung than with every dev case.
    public var intervalWidening: Double { Statistics.widening(capped: casesPerRung, full: devCases) }
}
