import Foundation

/// Prices of a hosted model, in US dollars per million tokens.
package struct Prices: Sendable, Hashable, Codable {
    package var inputPerMillion: Double
    package var outputPerMillion: Double

    package init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }
}

/// What a rung scored, case by case, by case id.
package struct Outcomes: Sendable, Hashable {
    package var perCase: [Int: Double]
    /// Scores are pass (1) or fail (0).
    package var passFail: Bool

    package init(_ perCase: [Int: Double], passFail: Bool) {
        self.perCase = perCase
        self.passFail = passFail
    }

    /// Cases with a score (a case every request for failed has none).
    package var cases: Int { perCase.count }

    /// The scores in the order a test by betting takes them: shuffled by a hash of the case's key,
    /// fixed before any case was scored and unrelated to its label or its place in the file (an
    /// eval set sorted by label would otherwise bet on a run of one label).
    package var ordered: [Double] { Outcomes.order(perCase.keys).map { perCase[$0]! } }

    /// Case keys in the order tests by betting take them: by a multiplicative hash of the key
    /// (Knuth's, which spreads consecutive keys over the whole range), a fixed shuffle.
    package static func order(_ keys: some Sequence<Int>) -> [Int] {
        keys.map { (UInt64(bitPattern: Int64($0)) &* 0x9E37_79B9_7F4A_7C15, $0) }.sorted { $0 < $1 }.map(\.1)
    }

    /// The p-value against "the true mean score is at most `level`": the exact binomial test for
    /// pass/fail scores (valid however hard each case is: a sum of unequal Bernoulli trials is no
    /// more spread than the binomial of their mean), a test by betting for other scores in 0…1.
    package func upperTest(_ level: Double) -> Double {
        guard !perCase.isEmpty else { return 1 }
        if passFail {
            return Statistics.binomialUpperTail(
                successes: Int(perCase.values.reduce(0, +).rounded()), trials: perCase.count, probability: level)
        }
        return Statistics.bettingUpperTest(ordered, null: level)
    }

    /// The p-value against "the true mean score is at least `level`".
    package func lowerTest(_ level: Double) -> Double {
        Outcomes(perCase.mapValues { 1 - $0 }, passFail: passFail).upperTest(1 - level)
    }

    /// The 95% interval of the mean score: Wilson for pass/fail, else the bounded-mean interval
    /// of `Statistics.bootstrapMean`.
    package func interval(seed: UInt64 = 1) -> Interval {
        if passFail { return Statistics.wilson(successes: perCase.values.reduce(0, +), trials: perCase.count) }
        return Statistics.bootstrapMean(ordered, seed: seed)
    }
}

/// What to deploy to get a rung's score, as the advice names it and `pwb advise --export` writes it.
package struct Shipping: Sendable, Hashable, Codable {
    /// In words: the examples by id, "the 4 train cases most like each input", an adapter's file.
    package var description: String
    /// The prompt as one `.prompt` file with its examples inline, to import as a variant; nil when
    /// it is not one prompt (examples or passages chosen per case, a tuned model).
    package var promptFile: String?
    /// The variant the prompt file came from, `template/variant@N`.
    package var revision: String?

    package init(description: String, promptFile: String? = nil, revision: String? = nil) {
        self.description = description
        self.promptFile = promptFile
        self.revision = revision
    }
}

/// One measured rung of the escalation ladder: how it scored and what it costs.
package struct Rung: Sendable, Hashable, Codable {
    package enum Kind: Sendable, Hashable, Codable {
        case zeroShot
        case fewShot(k: Int, selection: Strategy.Selection)
        case retrieval(passages: Int)
        case fineTuned
    }

    package var kind: Kind
    /// A short name: `zero-shot (question)`, `4-shot random #2`, `retrieval (3 passages)`.
    package var label: String
    package var interval: Interval
    /// Cases scored (with a score: failed requests are left out).
    package var cases: Int
    /// Whether its scores are pass/fail.
    package var passFail: Bool
    package var promptTokens: Double
    /// The prompt tokens the server read per request, the rest found in its prompt cache (a
    /// prefix the requests share); nil when the server does not say.
    package var promptTokensRead: Double?
    package var completionTokens: Double
    /// Local compute per request, seconds: its mean tokens at the ladder's `ComputeSpeeds`.
    package var computeSeconds: Double
    /// A one-off cost (fine-tuning): in dollars when given, in local compute seconds when measured.
    package var oneOffUSD: Double?
    package var oneOffSeconds: Double?
    /// The one-off cost is already paid (an adapter trained, measuring it or before): it is shown,
    /// but the choice from here on does not pay it again.
    package var oneOffPaid = false
    /// Labeled examples this rung needs.
    package var labeledExamples: Int
    /// The stored runs behind it.
    package var runs: [Int]
    /// What to deploy to get this score.
    package var shipping: Shipping?
    /// Its own prices when they differ from the ladder's (a provider's tuned model).
    package var prices: Prices?
    /// The per-case scores the decision is made from (not stored with the advice: empty when read
    /// back).
    package var outcomes = Outcomes([:], passFail: false)

    enum CodingKeys: String, CodingKey {
        case kind, label, interval, cases, passFail, promptTokens, promptTokensRead, completionTokens, computeSeconds,
            oneOffUSD, oneOffSeconds, oneOffPaid, labeledExamples, runs, shipping, prices
    }

    package init(
        kind: Kind, label: String, outcomes: Outcomes, promptTokens: Double, completionTokens: Double,
        computeSeconds: Double, oneOffUSD: Double? = nil, oneOffSeconds: Double? = nil, labeledExamples: Int = 0,
        runs: [Int] = [], seed: UInt64 = 1
    ) {
        self.kind = kind
        self.label = label
        self.outcomes = outcomes
        self.interval = outcomes.interval(seed: seed)
        self.cases = outcomes.cases
        self.passFail = outcomes.passFail
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.computeSeconds = computeSeconds
        self.oneOffUSD = oneOffUSD
        self.oneOffSeconds = oneOffSeconds
        self.labeledExamples = labeledExamples
        self.runs = runs
    }

    /// The rung scored on `outcomes` instead (more cases, after a round of the follow-up).
    package func rescored(_ outcomes: Outcomes, runs: [Int], seed: UInt64 = 1) -> Rung {
        var rung = self
        rung.outcomes = outcomes
        rung.interval = outcomes.interval(seed: seed)
        rung.cases = outcomes.cases
        rung.runs = runs
        return rung
    }

    /// The order of effort on the ladder: prompting, examples, retrieval, training.
    package var effort: Int {
        switch kind {
        case .zeroShot: 0
        case .fewShot: 1
        case .retrieval: 2
        case .fineTuned: 3
        }
    }

    package var shots: Int {
        if case .fewShot(let k, _) = kind { return k }
        return 0
    }
}

/// How fast the model server reads a prompt and generates, in seconds per token, measured once
/// over the whole ladder. Every rung's local compute is reckoned from its own tokens at these
/// speeds, so rungs are ordered by what they ask of the model, not by how busy the machine was
/// while each one ran: costs a few milliseconds apart would otherwise swap from run to run.
package struct ComputeSpeeds: Sendable, Hashable, Codable {
    package var secondsPerPromptToken: Double
    package var secondsPerGeneratedToken: Double
    /// From the compute the server reported (llama.cpp's timings, Ollama's durations); false when
    /// taken from request latencies, which give one speed for both kinds of token.
    package var reportedByServer: Bool

    package init(secondsPerPromptToken: Double, secondsPerGeneratedToken: Double, reportedByServer: Bool) {
        self.secondsPerPromptToken = secondsPerPromptToken
        self.secondsPerGeneratedToken = secondsPerGeneratedToken
        self.reportedByServer = reportedByServer
    }

    /// A request's compute: the prompt tokens read and the answer generated.
    package func seconds(promptTokens: Double, completionTokens: Double) -> Double {
        promptTokens * secondsPerPromptToken + completionTokens * secondsPerGeneratedToken
    }
}

extension Rung {
    /// The rung with its compute per request reckoned at `speeds`: the prompt tokens the server
    /// read (a shared prefix it kept cached is not read again), and those it generated.
    package func costed(at speeds: ComputeSpeeds) -> Rung {
        var rung = self
        rung.computeSeconds = speeds.seconds(
            promptTokens: promptTokensRead ?? promptTokens, completionTokens: completionTokens)
        return rung
    }
}

/// What a rung costs: per request in dollars (with prices) or in seconds of local compute
/// (without), and in total over a year at the expected volume.
package struct CostModel: Sendable, Hashable {
    package var prices: Prices?
    package var volumePerMonth: Double?
    package static let horizonMonths = 12.0

    package init(prices: Prices? = nil, volumePerMonth: Double? = nil) {
        self.prices = prices
        self.volumePerMonth = volumePerMonth
    }

    package var unit: String { prices == nil ? "s of local compute" : "USD" }

    package func perRequest(_ rung: Rung) -> Double {
        guard let prices = prices.map({ rung.prices ?? $0 }) else { return rung.computeSeconds }
        return (rung.promptTokens * prices.inputPerMillion + rung.completionTokens * prices.outputPerMillion)
            / 1_000_000
    }

    /// The one-off cost in this model's unit: dollars with prices, compute seconds without;
    /// nil when the rung has one but it is not known in that unit (fine-tuning without a price).
    package func oneOff(_ rung: Rung) -> Double? {
        guard rung.kind == .fineTuned || rung.oneOffUSD != nil || rung.oneOffSeconds != nil else { return 0 }
        return prices == nil ? rung.oneOffSeconds : rung.oneOffUSD
    }

    /// The one-off cost still to pay: none once paid.
    package func unpaidOneOff(_ rung: Rung) -> Double? {
        rung.oneOffPaid ? 0 : oneOff(rung)
    }

    /// An unpaid one-off cost spread over a year of requests at the volume; 0 without a volume or
    /// when nothing is left to pay, and infinite when it is unknown.
    package func oneOffPerRequest(_ rung: Rung) -> Double {
        guard let unpaid = unpaidOneOff(rung) else { return .infinity }
        guard unpaid > 0 else { return 0 }
        guard let volumePerMonth, volumePerMonth > 0 else { return 0 }
        return unpaid / (volumePerMonth * CostModel.horizonMonths)
    }

    /// The unpaid one-off cost plus a year of requests at the volume; without a volume, per
    /// request. Nil when a one-off cost still to pay is unknown.
    package func total(_ rung: Rung) -> Double? {
        guard let volumePerMonth else { return perRequest(rung) }
        guard let oneOff = unpaidOneOff(rung) else { return nil }
        return oneOff + perRequest(rung) * volumePerMonth * CostModel.horizonMonths
    }

    /// How rungs are ordered from cheapest. Without a volume: by cost per request, rungs with a
    /// one-off cost still to pay after those without (it cannot be spread over requests nobody
    /// counted); a cost already paid is sunk. With a volume: by the first year's total. Then by effort.
    package func order(_ a: Rung, _ b: Rung) -> Bool {
        func key(_ rung: Rung) -> (Int, Double, Int) {
            let unpaid = unpaidOneOff(rung)
            let uncertain = volumePerMonth == nil ? (unpaid ?? 1) > 0 : unpaid == nil
            return (uncertain ? 1 : 0, total(rung) ?? perRequest(rung), rung.effort)
        }
        return key(a) < key(b)
    }

    /// Requests after which a one-off cost is paid back by a saving on every request.
    package static func breakEven(oneOff: Double, savingPerRequest: Double) -> Double? {
        guard savingPerRequest > 0 else { return nil }
        return oneOff / savingPerRequest
    }
}
