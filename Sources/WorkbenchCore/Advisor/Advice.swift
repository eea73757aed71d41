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

/// A step of the ladder: measured, or skipped with the reason.
public struct Step<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public var measured: Value?
    public var skipped: String?

    public static func measured(_ value: Value) -> Step { Step(measured: value, skipped: nil) }
    public static func skipped(_ reason: String) -> Step { Step(measured: nil, skipped: reason) }
}

/// What the advisor measured and decided, as one value: the terminal, JSON and HTML reports are
/// drawn from it, and it is stored as JSON.
public struct Advice: Sendable, Hashable, Codable {
    /// Bumped when the stored shape changes; advice stored in another shape is not read back.
    public static let currentFormat = 4

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
        public var limitedBy: String
        public var points: [FewShotPoint]

        public init(variant: String, draws: Int, maxShots: Int, limitedBy: String, points: [FewShotPoint]) {
            self.variant = variant
            self.draws = draws
            self.maxShots = maxShots
            self.limitedBy = limitedBy
            self.points = points
        }
    }

    public struct FewShotPoint: Sendable, Hashable, Codable {
        public var k: Int
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
    /// (`pwb advise --finetune`), or a served fine-tuned model (`--finetuned-model`); and what the
    /// tuned rung with the most data saves against the rung that would be chosen without it.
    public struct FineTuned: Sendable, Hashable, Codable {
        /// The served model, or nil when adapters were trained here.
        public var model: String?
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
    public var zeroShot: ZeroShot
    public var fewShot: Step<FewShot>
    public var retrieval: Step<Retrieval>
    public var fineTuning: Step<FineTuned>
    /// The learning curve's scenario; never part of the decision.
    public var projection: Projection?
    public var rungs: [Rung]
    public var decision: Decision?
    public var elapsedSeconds: Double
    /// How every rung read its answers (nil in advice stored before readers were named, which
    /// read them from one token where that told the labels apart).
    public var reader: Reader?
    /// The server's speeds every rung's local compute is reckoned at; nil when no answer had
    /// tokens to measure them by.
    public var speeds: ComputeSpeeds?

    public init(
        template: String, evalset: String, model: String, devCases: Int, casesPerRung: Int, trainCases: Int,
        target: Double, volumePerMonth: Double?, prices: Prices?, fineTuneCostUSD: Double?, baseline: Baseline?,
        zeroShot: ZeroShot, fewShot: Step<FewShot>, retrieval: Step<Retrieval>, fineTuning: Step<FineTuned>,
        projection: Projection?, rungs: [Rung], decision: Decision?, elapsedSeconds: Double
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
        self.zeroShot = zeroShot
        self.fewShot = fewShot
        self.retrieval = retrieval
        self.fineTuning = fineTuning
        self.projection = projection
        self.rungs = rungs
        self.decision = decision
        self.elapsedSeconds = elapsedSeconds
    }

    public var cost: CostModel { CostModel(prices: prices, volumePerMonth: volumePerMonth) }

    /// The rung the decision chose.
    public var recommended: Rung? { decision.map { rungs[$0.chosen] } }

    /// The zero-shot rung: the ladder's first.
    public var zeroShotRung: Rung? { rungs.first { $0.kind == .zeroShot } }

    /// How much wider intervals are with the cases per rung than with every dev case.
    public var intervalWidening: Double { Statistics.widening(capped: casesPerRung, full: devCases) }
}
