import Foundation

/// The advice in plain words: why this rung, what it costs and gains, and what to do next.
extension Advice {
    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    static func interval(_ interval: Interval) -> String {
        "\(format(interval.estimate)) [\(format(interval.lower)), \(format(interval.upper))]"
    }

    /// `p=0.012`; `p<0.001` below that; never rounded across 0.05.
    public static func pValue(_ p: Double) -> String { Comparison.pText(p) }

    /// The local cost in its unit: dollars with prices, seconds of compute without.
    public func money(_ value: Double) -> String {
        prices != nil ? Advice.dollars(value) : Advice.duration(value)
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

    /// How costs are reckoned without prices, in words: each rung's tokens at the server's speeds.
    public var computeTerms: String {
        guard let speeds else { return "costs are each rung's median latency (the server reported no token counts)" }
        func rate(_ seconds: Double) -> String { seconds > 0 ? String(format: "%.0f", 1 / seconds) : "–" }
        guard speeds.reportedByServer else {
            return
                "costs are local compute, each rung's tokens at one speed taken from the answers' latencies (\(rate(speeds.secondsPerPromptToken)) tokens/s)"
        }
        // A one-token answer is sampled from the prompt's last step: no generation speed to show.
        let generated = reader == .oneToken ? "" : ", \(rate(speeds.secondsPerGeneratedToken)) tokens/s generated"
        return
            "costs are local compute, each rung's prompt and answer tokens at the speeds the server reported over the ladder (\(rate(speeds.secondsPerPromptToken)) prompt tokens/s read\(generated))"
    }

    /// What the baseline is, in words: `chance with 4 labels (0.250)`.
    public var baselineText: String? {
        guard let baseline else { return nil }
        return baseline.majority > baseline.chance
            ? "always answering \"\(baseline.majorityLabel)\" (\(Advice.format(baseline.majority)))"
            : "chance with \(baseline.labels) labels (\(Advice.format(baseline.chance)))"
    }

    /// Why the chosen rung, in sentences.
    public var reasons: [String] {
        guard let decision, let zero = zeroShotRung else { return [] }
        let chosen = rungs[decision.chosen]
        let best = rungs[decision.best]
        let test = decision.tests[decision.chosen]
        var lines: [String] = []
        let gap = target - zero.interval.estimate
        lines.append(
            gap > 0
                ? "The gap: zero-shot scores \(Advice.interval(zero.interval)) against a target of \(Advice.format(target)), \(Advice.format(gap)) short."
                : "No gap: zero-shot already scores \(Advice.interval(zero.interval)) against a target of \(Advice.format(target))."
        )
        let measured = rungs.filter { $0.cases > 0 }
        lines.append(
            "What was tried: "
                + measured.map { "\($0.label) \(Advice.format($0.interval.estimate))" }.joined(separator: "; ") + ".")
        switch decision.verdict {
        case .meets:
            lines.append(
                "\(chosen.label) is the cheapest rung shown to reach the target: \(Advice.interval(chosen.interval)), \(test.method) \(Advice.pValue(test.adjustedP)) after Holm's correction over \(decision.family) tests."
            )
        case .undecided:
            lines.append(
                "\(best.label) scores \(Advice.format(best.interval.estimate)) on these \(best.cases) cases, at or above the target, but not by enough to show it (\(decision.tests[decision.best].method) \(Advice.pValue(decision.tests[decision.best].adjustedP)) after Holm's correction over \(decision.family) tests)."
            )
        case .short:
            lines.append(
                "No rung reaches the target on these cases; the best is \(best.label) at \(Advice.interval(best.interval))."
            )
        case .atBaseline:
            lines.append(
                "No rung scores significantly above \(baselineText ?? "the baseline"): the model cannot do this task as asked, and no rung can be recommended as helping."
            )
        }
        if decision.verdict == .undecided || decision.verdict == .short, decision.chosen != decision.best,
            let comparison = decision.tests[decision.chosen].againstBest
        {
            lines.append(
                "\(chosen.label) is cheaper and not significantly worse than \(best.label) (\(Advice.signed(-comparison.difference)) on \(comparison.pairs) shared cases, \(comparison.method.rawValue) \(Advice.pValue(comparison.adjustedP)) after Holm's correction), so the costlier rung is not worth it."
            )
        }
        if chosen != zero {
            lines.append("What it costs: " + costs(of: chosen, against: zero).joined(separator: ", ") + ".")
            let gain = chosen.interval.estimate - zero.interval.estimate
            var gains = "What it gains: \(Advice.signed(gain)) in score"
            if let comparison = pairedWithZeroShot(chosen) {
                gains +=
                    " (\(comparison.method.rawValue) \(Advice.pValue(comparison.adjustedP)) after Holm's correction: \(comparison.isSignificant ? "significant" : "not significant"))"
            }
            // Without prices the cost above is the compute already; with them, it is said here.
            if prices != nil {
                let compute = chosen.computeSeconds - zero.computeSeconds
                gains += "; local compute \(compute >= 0 ? "+" : "−")\(Advice.duration(abs(compute))) per request"
            }
            lines.append(gains + ".")
        }
        return lines
    }

    /// The chosen rung against zero-shot, from the decision's tests when one of them is the best.
    func pairedWithZeroShot(_ rung: Rung) -> Comparison? {
        guard let decision, let zeroIndex = rungs.firstIndex(where: { $0.kind == .zeroShot }),
            let rungIndex = rungs.firstIndex(of: rung)
        else { return nil }
        if decision.best == rungIndex { return decision.tests[zeroIndex].againstBest }
        return nil
    }

    func costs(of rung: Rung, against zero: Rung) -> [String] {
        var costs: [String] = []
        let extraTokens = rung.promptTokens - zero.promptTokens
        if abs(extraTokens) >= 0.5 {
            costs.append(
                "\(extraTokens > 0 ? "+" : "")\(String(format: "%.0f", extraTokens)) prompt tokens per request")
        }
        let perRequest = cost.perRequest(rung) - cost.perRequest(zero)
        costs.append("\(perRequest >= 0 ? "+" : "−")\(money(abs(perRequest))) per request")
        if let volume = volumePerMonth {
            costs.append(
                "\(money(cost.perRequest(rung) * volume)) a month at \(String(format: "%.0f", volume)) requests")
        }
        if let dollars = rung.oneOffUSD {
            costs.append("a one-off \(Advice.dollars(dollars)) to train")
        } else if let seconds = rung.oneOffSeconds {
            costs.append("a one-off \(Advice.duration(seconds)) of training, measured")
        } else if rung.kind == .fineTuned {
            costs.append("an unknown one-off cost to train (--finetune-cost USD states it)")
        }
        if rung.labeledExamples > 0 {
            costs.append("\(rung.labeledExamples) labeled example\(rung.labeledExamples == 1 ? "" : "s")")
        }
        return costs
    }

    /// What to do next, in sentences.
    public var next: [String] {
        guard let decision else { return [] }
        let chosen = rungs[decision.chosen]
        let best = rungs[decision.best]
        var lines: [String] = []
        switch decision.verdict {
        case .meets:
            lines.append("Confirm on the held-out test split (pwb eval --split test) before shipping.")
        case .undecided:
            // The count follows the exact binomial test: a rung of one run with pass/fail scores.
            if best.draws != 1 || !best.passFail {
                lines.append(
                    "Score more cases per rung (a larger --budget, or more dev cases) to show whether \(best.label) meets the target."
                )
            } else if let needed = DecisionRule.casesToShow(
                estimate: best.interval.estimate, target: target, rungs: decision.family)
            {
                lines.append(
                    needed <= devCases
                        ? "If \(best.label) keeps scoring \(Advice.format(best.interval.estimate)), about \(needed) cases per rung would show it: rerun with --budget \(needed)."
                        : "If \(best.label) keeps scoring \(Advice.format(best.interval.estimate)), about \(needed) cases per rung would show it; the eval set has \(devCases) dev cases, so label about \(needed - devCases) more."
                )
            } else {
                lines.append(
                    "\(best.label) is too close to the target to show it meets it with any number of cases; lower --target or improve the prompt."
                )
            }
        case .short:
            if case .retrieval(let passages) = chosen.kind {
                lines.append(
                    "Retrieval helps most: try more passages (--passages \(passages * 2)), check what it finds (pwb corpus search), or a larger model (--model)."
                )
            }
            lines += curveAdvice()
        case .atBaseline:
            lines.append(
                "Try a larger model (--model), another phrasing of the task (pwb template new-variant, or edit a variant in the REPL)"
                    + (fineTuning.measured == nil
                        ? ", or measure fine-tuning (--finetune)."
                        : ", or fine-tune on more train cases (label more, then pwb advise --finetune).")
            )
        }
        if decision.verdict != .meets, fineTuning.measured == nil, trainCases > 0 {
            lines.append(
                "Fine-tuning was not measured: pwb advise --finetune trains LoRA adapters on the \(trainCases) train cases here and scores them on the same cases."
            )
        }
        return lines
    }

    /// What the checked learning curve says about more examples, or why it says nothing.
    func curveAdvice() -> [String] {
        guard let projection, let fewShot = fewShot.measured else { return [] }
        let similarBest = fewShot.points.map(\.similar).filter { $0.cases > 0 }.map(\.interval.estimate).max()
        guard projection.trusted, let curve = projection.curve else {
            return [
                "The learning curve cannot say whether more examples would help: \(projection.distrust ?? "it could not be fitted")."
            ]
        }
        if let needed = projection.examplesToReach {
            return [
                "The learning curve (checked against k = \(projection.backtest?.k ?? 0)) reaches the target at about \(needed) examples: try --max-shots \(needed)."
            ]
        }
        let supported = projection.supportedUpTo ?? 0
        var text =
            !curve.rises
            ? "More random examples do not raise the score."
            : curve.ceiling >= target
                ? "The learning curve of random examples would reach the target only beyond k ≈ \(supported), further than its check supports."
                : "The learning curve of random examples levels off at \(Advice.format(curve.ceiling)), below the target (checked up to k ≈ \(supported))."
        if let similarBest, similarBest > (curve.rises ? curve.ceiling : curve.predict(0)) {
            text +=
                " Similar examples scored up to \(Advice.format(similarBest)), above that curve: choosing examples well helps more than adding them."
        }
        return [text]
    }

    public static func signed(_ value: Double) -> String {
        (value >= 0 ? "+" : "") + format(value)
    }
}
