import Foundation

/// Prices of a hosted model, in US dollars per million tokens.
public struct Prices: Sendable, Hashable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }
}

/// One rung of the escalation ladder: how it scored (or is projected to score) and what it costs.
public struct Rung: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case zeroShot
        case fewShot(k: Int, selection: Strategy.Selection)
        case retrieval(passages: Int)
        case fineTuned
    }

    public var kind: Kind
    /// A short name: `zero-shot`, `4-shot similar`, `retrieval (3 passages)`, `fine-tuned`.
    public var label: String
    public var interval: Interval
    /// False for a projection; only measured rungs can be said to meet a target.
    public var measured: Bool
    public var promptTokens: Double
    public var completionTokens: Double
    /// Mean wall time per request, seconds: the local compute a request costs.
    public var latencySeconds: Double
    /// A one-off cost (fine-tuning): in dollars when known, and in local compute seconds.
    public var oneOffUSD: Double?
    public var oneOffSeconds: Double?
    /// Labeled examples this rung needs.
    public var labeledExamples: Int
    /// The stored runs behind it.
    public var runs: [Int]

    public init(
        kind: Kind, label: String, interval: Interval, measured: Bool = true, promptTokens: Double,
        completionTokens: Double, latencySeconds: Double, oneOffUSD: Double? = nil, oneOffSeconds: Double? = nil,
        labeledExamples: Int = 0, runs: [Int] = []
    ) {
        self.kind = kind
        self.label = label
        self.interval = interval
        self.measured = measured
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencySeconds = latencySeconds
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
        guard let prices else { return rung.latencySeconds }
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
    func order(_ a: Rung, _ b: Rung) -> Bool {
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

/// The ladder's verdict, with its reasons in plain words.
public struct Recommendation: Sendable, Hashable {
    public enum Verdict: String, Sendable, Hashable {
        /// Measured, and the whole interval is at or above the target.
        case meets
        /// The estimate reaches the target but the interval dips below, or it is a projection.
        case likely
        /// Nothing reaches the target; the best value is named instead.
        case short
    }

    public var verdict: Verdict
    public var chosen: Rung
    public var reasons: [String]
    public var next: [String]
}

public enum DecisionRules {
    /// Projects a fine-tuned model's score from the few-shot learning curve and the train split:
    /// the curve at k = train size (as if every train example could be taught), never below the
    /// best measured few-shot score, never above the curve's ceiling or 1. Training cost: `epochs`
    /// passes over the train tokens, at three times the prompt-processing time measured locally
    /// (forward and backward passes), or `costUSD` when given.
    public static func projectFineTuning(
        curve: LearningCurve, trainSize: Int, zeroShot: Rung, bestFewShot: Rung?, tokensPerExample: Double,
        secondsPerPromptToken: Double?, costUSD: Double?, epochs: Int = 3
    ) -> Rung {
        let floor = max(zeroShot.interval.estimate, bestFewShot?.interval.estimate ?? 0)
        let ceiling = min(1, max(floor, curve.ceiling))
        let estimate = min(ceiling, max(floor, curve.predict(Double(trainSize))))
        let trainingTokens = Double(epochs * trainSize) * tokensPerExample
        return Rung(
            kind: .fineTuned, label: "fine-tuned (projected)",
            interval: Interval(estimate: estimate, lower: floor, upper: ceiling), measured: false,
            promptTokens: zeroShot.promptTokens, completionTokens: zeroShot.completionTokens,
            latencySeconds: zeroShot.latencySeconds, oneOffUSD: costUSD,
            oneOffSeconds: secondsPerPromptToken.map { trainingTokens * 3 * $0 }, labeledExamples: trainSize)
    }

    /// The cheapest rung that meets `target` with its whole interval; else the cheapest whose
    /// estimate reaches it; else the best score, with what would change the answer.
    public static func recommend(
        _ rungs: [Rung], target: Double, cost: CostModel, curve: LearningCurve?, trainSize: Int,
        maxShots: Int?
    ) -> Recommendation? {
        guard let zeroShot = rungs.first(where: { $0.kind == .zeroShot }) ?? rungs.first else { return nil }
        let cheapest = { (candidates: [Rung]) -> Rung? in candidates.min(by: cost.order) }
        let reaching = rungs.filter { $0.interval.estimate >= target }
        let verdict: Recommendation.Verdict
        let chosen: Rung
        if let meets = cheapest(reaching.filter { $0.measured && $0.interval.lower >= target }) {
            verdict = .meets
            chosen = meets
        } else if let likely = cheapest(reaching.filter(\.measured)) ?? cheapest(reaching) {
            // A measurement that reaches the target comes before any projection.
            verdict = .likely
            chosen = likely
        } else {
            // The best score; at equal scores a measurement before a projection, then the cheaper.
            verdict = .short
            chosen = rungs.max { a, b in
                if a.interval.estimate != b.interval.estimate { return a.interval.estimate < b.interval.estimate }
                if a.measured != b.measured { return !a.measured }
                return cost.order(b, a)
            }!
        }
        return Recommendation(
            verdict: verdict, chosen: chosen,
            reasons: reasons(chosen, verdict: verdict, zeroShot: zeroShot, rungs: rungs, target: target, cost: cost),
            next: next(
                chosen, verdict: verdict, target: target, curve: curve, trainSize: trainSize, maxShots: maxShots))
    }

    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    static func money(_ cost: CostModel, _ value: Double) -> String {
        cost.prices != nil ? dollars(value) : duration(value)
    }

    /// Cents for a cent or more; below that two significant digits, so a price per request of a
    /// small prompt reads `$0.0000040`, not `$0.0000`.
    public static func dollars(_ value: Double) -> String {
        guard value > 0, value < 0.01 else { return String(format: "$%.2f", value) }
        let decimals = min(12, Int(-floor(log10(value))) + 1)
        return String(format: "$%.\(decimals)f", value)
    }

    public static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    static func reasons(
        _ chosen: Rung, verdict: Recommendation.Verdict, zeroShot: Rung, rungs: [Rung], target: Double, cost: CostModel
    ) -> [String] {
        var lines: [String] = []
        let gap = target - zeroShot.interval.estimate
        lines.append(
            gap > 0
                ? "The gap: zero-shot scores \(format(zeroShot.interval.estimate)) [\(format(zeroShot.interval.lower)), \(format(zeroShot.interval.upper))] against a target of \(format(target)), \(format(gap)) short."
                : "No gap: zero-shot already scores \(format(zeroShot.interval.estimate)) [\(format(zeroShot.interval.lower)), \(format(zeroShot.interval.upper))] against a target of \(format(target))."
        )
        let tried = rungs.map { "\($0.label) \(format($0.interval.estimate))\($0.measured ? "" : " (projected)")" }
        lines.append("What was tried: " + tried.joined(separator: "; ") + ".")
        switch verdict {
        case .meets:
            lines.append(
                "\(chosen.label) is the cheapest rung whose whole interval [\(format(chosen.interval.lower)), \(format(chosen.interval.upper))] is at or above the target."
            )
        case .likely:
            lines.append(
                chosen.measured
                    ? "\(chosen.label) is the cheapest rung whose score reaches the target, but its interval [\(format(chosen.interval.lower)), \(format(chosen.interval.upper))] dips below it: likely, not certain."
                    : "Only \(chosen.label) reaches the target, and that is a projection, not a measurement.")
        case .short:
            lines.append(
                "No rung reaches the target; \(chosen.label) comes closest at \(format(chosen.interval.estimate)).")
        }
        // What it costs and gains, against zero-shot.
        if chosen != zeroShot {
            let extraTokens = chosen.promptTokens - zeroShot.promptTokens
            var costs: [String] = []
            if abs(extraTokens) >= 0.5 {
                costs.append("\(extraTokens > 0 ? "+" : "")\(Int(extraTokens.rounded())) prompt tokens per request")
            }
            let perRequest = cost.perRequest(chosen) - cost.perRequest(zeroShot)
            costs.append("\(perRequest >= 0 ? "+" : "−")\(money(cost, abs(perRequest))) per request")
            if let volume = cost.volumePerMonth {
                costs.append("\(money(cost, cost.perRequest(chosen) * volume)) a month at \(Int(volume)) requests")
            }
            if let dollars = chosen.oneOffUSD {
                costs.append("a one-off \(DecisionRules.dollars(dollars)) to train")
            } else if let seconds = chosen.oneOffSeconds {
                costs.append("a one-off ≈\(duration(seconds)) of training compute (estimated)")
            }
            if chosen.labeledExamples > 0 {
                costs.append("\(chosen.labeledExamples) labeled example\(chosen.labeledExamples == 1 ? "" : "s")")
            }
            lines.append("What it costs: " + costs.joined(separator: ", ") + ".")
            let gain = chosen.interval.estimate - zeroShot.interval.estimate
            let latency = (chosen.latencySeconds - zeroShot.latencySeconds) * 1000
            lines.append(
                "What it gains: \(gain >= 0 ? "+" : "")\(format(gain)) in score; latency \(latency >= 0 ? "+" : "−")\(Int(abs(latency).rounded())) ms per request."
            )
        }
        return lines
    }

    static func next(
        _ chosen: Rung, verdict: Recommendation.Verdict, target: Double, curve: LearningCurve?, trainSize: Int,
        maxShots: Int?
    ) -> [String] {
        var lines: [String] = []
        switch verdict {
        case .meets:
            lines.append("Confirm on the held-out test split (--split test) before shipping.")
        case .likely:
            lines.append(
                chosen.measured
                    ? "Score more cases (a larger --budget, or pwb eval without --limit) to narrow the interval before deciding."
                    : "Measure it: fine-tune on the train split (pwb export-finetune), serve the model, and rerun with --finetuned-model."
            )
        case .short:
            if case .retrieval(let passages) = chosen.kind {
                lines.append(
                    "Retrieval comes closest: try more passages (--passages \(passages * 2)), check what it finds (pwb corpus search), or a larger model (--model)."
                )
            } else if let curve, let needed = curve.examplesToReach(target) {
                if let maxShots, Int(needed) <= maxShots {
                    lines.append(
                        "The learning curve reaches the target at about \(Int(needed)) examples, which fit the context: try --shots \(Int(needed))."
                    )
                } else if Int(needed) > trainSize {
                    lines.append(
                        "The learning curve reaches the target at about \(Int(needed)) examples: label about \(Int(needed) - trainSize) more, then fine-tune."
                    )
                } else {
                    lines.append(
                        "The learning curve reaches the target at about \(Int(needed)) examples, more than fit in a prompt: fine-tune on the \(trainSize) train cases."
                    )
                }
            } else if let curve, curve.rises {
                lines.append(
                    "The learning curve levels off at \(format(min(1, curve.ceiling))), below the target: more examples of this kind will not get there. Try a larger model (--model) or rethink the task's phrasing."
                )
            } else {
                lines.append(
                    "Examples do not help this prompt; try other variants, a larger model (--model), or retrieval.")
            }
        }
        return lines
    }
}
