import Foundation

/// Prices of a hosted model, in US dollars per million tokens.
public struct Prices: Sendable, Hashable, Codable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }
}

/// What a rung scored, case by case: one map from case to score per run. A random few-shot rung
/// has one per draw of examples; every other rung has one.
public struct Outcomes: Sendable, Hashable {
    public var draws: [[Int: Double]]
    /// Scores are pass (1) or fail (0).
    public var passFail: Bool

    public init(draws: [[Int: Double]], passFail: Bool) {
        self.draws = draws
        self.passFail = passFail
    }

    public init(_ perCase: [Int: Double], passFail: Bool) {
        self.init(draws: [perCase], passFail: passFail)
    }

    /// Each case's score, averaged over the draws that scored it.
    public var perCase: [Int: Double] {
        guard draws.count > 1 else { return draws.first ?? [:] }
        var sums: [Int: (Double, Int)] = [:]
        for draw in draws {
            for (id, score) in draw {
                sums[id, default: (0, 0)].0 += score
                sums[id, default: (0, 0)].1 += 1
            }
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    /// Cases with a score (a case every request for failed has none).
    public var cases: Int { perCase.count }

    /// The 95% interval of the rung's mean score with the case as the unit: Wilson for pass/fail
    /// (a case right in two draws of three counts two thirds of a success), else the bounded-mean
    /// interval of `Statistics.bootstrapMean`.
    public func interval(seed: UInt64 = 1) -> Interval {
        let means = perCase.sorted { $0.key < $1.key }.map(\.value)
        if passFail { return Statistics.wilson(successes: means.reduce(0, +), trials: means.count) }
        return Statistics.bootstrapMean(means, seed: seed)
    }

    /// The p-value against "the rung's true score is below `target`", and how it was tested.
    /// Each draw is tested on its own — the exact one-sided binomial test for pass/fail scores,
    /// the betting test for other scores in 0…1 — and a rung with several draws takes the largest
    /// p-value (an intersection–union test: the rung meets the target only if every draw of
    /// examples tried does, so a lucky draw cannot carry it).
    public func targetTest(_ target: Double) -> (p: Double, method: String) {
        var largest = 0.0
        for draw in draws {
            let scores = draw.sorted { $0.key < $1.key }.map(\.value)
            let p =
                passFail
                ? Statistics.binomialUpperTail(
                    successes: Int(scores.reduce(0, +).rounded()), trials: scores.count, probability: target)
                : Statistics.bettingUpperTest(scores, null: target)
            largest = max(largest, scores.isEmpty ? 1 : p)
        }
        let method = passFail ? "exact binomial" : "betting test"
        return (draws.isEmpty ? 1 : largest, draws.count > 1 ? "\(method), every draw" : method)
    }
}

/// One measured rung of the escalation ladder: how it scored and what it costs.
public struct Rung: Sendable, Hashable, Codable {
    public enum Kind: Sendable, Hashable, Codable {
        case zeroShot
        case fewShot(k: Int, selection: Strategy.Selection)
        case retrieval(passages: Int)
        case fineTuned
    }

    public var kind: Kind
    /// A short name: `zero-shot (question)`, `4-shot similar`, `retrieval (3 passages)`.
    public var label: String
    public var interval: Interval
    /// Cases scored (with a score: failed requests are left out).
    public var cases: Int
    /// Runs behind the score (a random few-shot rung has one per draw), and whether its scores
    /// are pass/fail: which test it gets.
    public var draws: Int
    public var passFail: Bool
    public var promptTokens: Double
    public var completionTokens: Double
    /// Local compute per request, seconds: its mean tokens at the ladder's `ComputeSpeeds`.
    public var computeSeconds: Double
    /// A one-off cost (fine-tuning): in dollars when given, in local compute seconds when measured.
    public var oneOffUSD: Double?
    public var oneOffSeconds: Double?
    /// Labeled examples this rung needs.
    public var labeledExamples: Int
    /// The stored runs behind it.
    public var runs: [Int]
    /// The per-case scores the decision is made from (not stored with the advice: empty when read
    /// back).
    public var outcomes = Outcomes(draws: [], passFail: false)

    enum CodingKeys: String, CodingKey {
        case kind, label, interval, cases, draws, passFail, promptTokens, completionTokens, computeSeconds, oneOffUSD,
            oneOffSeconds, labeledExamples, runs
    }

    public init(
        kind: Kind, label: String, outcomes: Outcomes, promptTokens: Double, completionTokens: Double,
        computeSeconds: Double, oneOffUSD: Double? = nil, oneOffSeconds: Double? = nil, labeledExamples: Int = 0,
        runs: [Int] = [], seed: UInt64 = 1
    ) {
        self.kind = kind
        self.label = label
        self.outcomes = outcomes
        self.interval = outcomes.interval(seed: seed)
        self.cases = outcomes.cases
        self.draws = outcomes.draws.count
        self.passFail = outcomes.passFail
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.computeSeconds = computeSeconds
        self.oneOffUSD = oneOffUSD
        self.oneOffSeconds = oneOffSeconds
        self.labeledExamples = labeledExamples
        self.runs = runs
    }

    /// The order of effort on the ladder: prompting, examples, retrieval, training.
    public var effort: Int {
        switch kind {
        case .zeroShot: 0
        case .fewShot: 1
        case .retrieval: 2
        case .fineTuned: 3
        }
    }

    public var shots: Int {
        if case .fewShot(let k, _) = kind { return k }
        return 0
    }
}

/// How fast the model server reads a prompt and generates, in seconds per token, measured once
/// over the whole ladder. Every rung's local compute is reckoned from its own tokens at these
/// speeds, so rungs are ordered by what they ask of the model, not by how busy the machine was
/// while each one ran: costs a few milliseconds apart would otherwise swap from run to run.
public struct ComputeSpeeds: Sendable, Hashable, Codable {
    public var secondsPerPromptToken: Double
    public var secondsPerGeneratedToken: Double
    /// From the compute the server reported (llama.cpp's timings, Ollama's durations); false when
    /// taken from request latencies, which give one speed for both kinds of token.
    public var reportedByServer: Bool

    public init(secondsPerPromptToken: Double, secondsPerGeneratedToken: Double, reportedByServer: Bool) {
        self.secondsPerPromptToken = secondsPerPromptToken
        self.secondsPerGeneratedToken = secondsPerGeneratedToken
        self.reportedByServer = reportedByServer
    }

    /// A request's compute: its whole prompt read (no cached prefix counted on) and its answer
    /// generated.
    public func seconds(promptTokens: Double, completionTokens: Double) -> Double {
        promptTokens * secondsPerPromptToken + completionTokens * secondsPerGeneratedToken
    }
}

extension Rung {
    /// The rung with its compute per request reckoned at `speeds`.
    public func costed(at speeds: ComputeSpeeds) -> Rung {
        var rung = self
        rung.computeSeconds = speeds.seconds(promptTokens: promptTokens, completionTokens: completionTokens)
        return rung
    }
}

/// What a rung costs: per request in dollars (with prices) or in seconds of local compute
/// (without), and in total over a year at the expected volume.
public struct CostModel: Sendable, Hashable {
    public var prices: Prices?
    public var volumePerMonth: Double?
    public static let horizonMonths = 12.0

    public init(prices: Prices? = nil, volumePerMonth: Double? = nil) {
        self.prices = prices
        self.volumePerMonth = volumePerMonth
    }

    public var unit: String { prices == nil ? "s of local compute" : "USD" }

    public func perRequest(_ rung: Rung) -> Double {
        guard let prices else { return rung.computeSeconds }
        return (rung.promptTokens * prices.inputPerMillion + rung.completionTokens * prices.outputPerMillion)
            / 1_000_000
    }

    /// The one-off cost in this model's unit: dollars with prices, compute seconds without;
    /// nil when the rung has one but it is not known in that unit (fine-tuning without a price).
    public func oneOff(_ rung: Rung) -> Double? {
        guard rung.kind == .fineTuned || rung.oneOffUSD != nil || rung.oneOffSeconds != nil else { return 0 }
        return prices == nil ? rung.oneOffSeconds : rung.oneOffUSD
    }

    /// The one-off cost plus a year of requests at the volume; without a volume, per request
    /// (a one-off cost cannot be spread over requests nobody has counted). Nil when a one-off
    /// cost is unknown.
    public func total(_ rung: Rung) -> Double? {
        guard let volumePerMonth else { return perRequest(rung) }
        guard let oneOff = oneOff(rung) else { return nil }
        return oneOff + perRequest(rung) * volumePerMonth * CostModel.horizonMonths
    }

    /// How rungs are ordered from cheapest: those without a one-off cost (or, given a volume,
    /// with a known one) first, then by their total, then by effort.
    public func order(_ a: Rung, _ b: Rung) -> Bool {
        func key(_ rung: Rung) -> (Int, Double, Int) {
            let oneOff = oneOff(rung)
            let uncertain = volumePerMonth == nil ? (oneOff ?? 1) > 0 : oneOff == nil
            return (uncertain ? 1 : 0, total(rung) ?? perRequest(rung), rung.effort)
        }
        return key(a) < key(b)
    }

    /// Requests after which a one-off cost is paid back by a saving on every request.
    public static func breakEven(oneOff: Double, savingPerRequest: Double) -> Double? {
        guard savingPerRequest > 0 else { return nil }
        return oneOff / savingPerRequest
    }
}
