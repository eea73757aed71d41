import Foundation

/// The advice in plain words: why this rung, what it costs and gains, and what to do next.
extension Advice {
    static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    static func interval(_ interval: Interval) -> String {
        "\(format(interval.estimate)) [\(format(interval.lower)), \(format(interval.upper))]"
    }

    /// `p=0.012`; `p<0.001` below that; never rounded across 0.05.
    package static func pValue(_ p: Double) -> String { Comparison.pText(p) }

    /// The local cost in its unit: dollars with prices, seconds of compute without.
    package func money(_ value: Double) -> String {
        prices != nil ? Advice.dollars(value) : Advice.duration(value)
    }

    /// Cents for a cent or more; below that two significant digits, so a price per request of a
    /// small prompt reads `$0.0000040`, not `$0.0000`.
    package static func dollars(_ value: Double) -> String {
        guard value > 0, value < 0.01 else { return String(format: "$%.2f", value) }
        let decimals = min(12, Int(-floor(log10(value))) + 1)
        return String(format: "$%.\(decimals)f", value)
    }

    package static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
        if seconds < 120 { return String(format: "%.1f s", seconds) }
        if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    /// How costs are reckoned without prices, in words: each rung's tokens at the server's speeds.
    package var computeTerms: String {
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
    package var baselineText: String? {
        guard let baseline else { return nil }
        return baseline.majority > baseline.chance
            ? "always answering \"\(baseline.majorityLabel)\" (\(Advice.format(baseline.majority)))"
            : "chance with \(baseline.labels) labels (\(Advice.format(baseline.chance)))"
    }

    /// Why the chosen rung, in sentences.
    package var reasons: [Message] {
        guard let (decision, ladder) = finalDecision, let zero = zeroShotRung else { return [] }
        let chosen = ladder[decision.chosen]
        var lines: [Message] = []
        let gap = target - zero.interval.estimate
        lines.append(
            gap > 0
                ? "The gap: zero-shot scores \(Advice.interval(zero.interval)) against a target of \(Advice.format(target)), \(Advice.format(gap)) short."
                : "No gap: zero-shot already scores \(Advice.interval(zero.interval)) against a target of \(Advice.format(target))."
        )
        lines.append(
            Message(
                "What was tried: "
                    + rungs.filter { $0.cases > 0 }.map { "\($0.label) \(Advice.format($0.interval.estimate))" }
                    .joined(separator: "; ") + "."))
        lines.append(Message(verdictReason(decision, chosen)))
        lines += choiceReasons(decision, ladder).map { Message($0) }
        if let check = readerCheck { lines += readerReasons(check).map { Message($0) } }
        if chosen != zero {
            lines.append("What it costs: \(costs(of: chosen, against: zero).joined(separator: ", ")).")
            var gains = "What it gains: \(Advice.signed(chosen.interval.estimate - zero.interval.estimate)) in score"
            // Without prices the cost above is the compute already; with them, it is said here.
            if prices != nil {
                let compute = chosen.computeSeconds - zero.computeSeconds
                gains += "; local compute \(compute >= 0 ? "+" : "−")\(Advice.duration(abs(compute))) per request"
            }
            lines.append(Message(gains + "."))
        }
        if let shipping = chosen.shipping { lines.append("What to ship: \(shipping.description).") }
        if let reader { lines.append("Read its answers as they were measured: \(reader.deployment).") }
        return lines
    }

    /// The verdict on the chosen rung against the target.
    func verdictReason(_ decision: Decision, _ chosen: Rung) -> String {
        let test = decision.tests[decision.chosen]
        let holm = "after Holm's correction over \(decision.family) tests"
        switch decision.verdict {
        case .meets:
            return
                "\(chosen.label) is shown to reach the target: \(Advice.interval(chosen.interval)), test by betting \(Advice.pValue(test.targetAdjustedP)) \(holm)."
        case .undecided:
            return
                "\(chosen.label) scores \(Advice.interval(chosen.interval)) on \(chosen.cases) cases: not enough to show it reaches the target (\(Advice.pValue(test.targetAdjustedP))) or falls short of it (\(Advice.pValue(test.shortAdjustedP))), \(holm)."
        case .short:
            return
                "\(chosen.label) is shown to fall short of the target: \(Advice.interval(chosen.interval)), test by betting \(Advice.pValue(test.shortAdjustedP)) \(holm)."
        case .atBaseline:
            return
                "No rung scores significantly above \(baselineText ?? "the baseline"): the model cannot do this task as asked, and no rung can be recommended as helping."
        }
    }

    /// Why this rung rather than the best or a cheaper one.
    func choiceReasons(_ decision: Decision, _ ladder: [Rung]) -> [String] {
        let chosen = ladder[decision.chosen]
        let best = ladder[decision.best]
        if decision.basis == .value, let values = decision.expectedValues, let value {
            var text =
                "At \(money(value)) a correct answer, \(chosen.label) has the highest expected value per request: \(money(values[decision.chosen]))"
            if decision.chosen != decision.best {
                text += "; \(best.label), the best by score, \(money(values[decision.best]))"
            }
            return [text + "."]
        }
        guard decision.chosen == decision.best else {
            guard let near = decision.tests[decision.chosen].againstBest else { return [] }
            return [
                "\(chosen.label) is cheaper than \(best.label), the best by score, and shown to be at most \(Advice.format(decision.margin)) worse: \(Advice.gap(near)) on \(near.pairs) shared cases, test by betting \(Advice.pValue(near.adjustedP)) after Holm's correction."
            ]
        }
        let cheaper = ladder.indices.compactMap { index in
            decision.tests[index].againstBest.flatMap { $0.cheaper ? (index, $0) : nil }
        }
        guard let closest = cheaper.max(by: { $0.1.difference < $1.1.difference }) else {
            return ["\(best.label) scores best, and no rung is cheaper."]
        }
        let contenders = decision.contenders.filter { decision.tests[$0].againstBest?.cheaper == true }.count
        return [
            "\(best.label) scores best; no cheaper rung showed it is at most \(Advice.format(decision.margin)) worse (the closest, \(ladder[closest.0].label): \(Advice.gap(closest.1)), \(Advice.pValue(closest.1.adjustedP)) after Holm's correction)"
                + (contenders > 0
                    ? "; \(contenders) cheaper rung\(contenders == 1 ? " is" : "s are") not shown worse either, so more cases could still move the choice."
                    : ".")
        ]
    }

    /// What checking one-token scores against generated ones found.
    func readerReasons(_ check: ReaderCheck) -> [String] {
        let entries = check.entries.map { entry in
            "\(entry.rung) \(Advice.format(entry.oneToken.estimate)) read from one token, \(Advice.format(entry.generated.estimate)) generated (\(entry.comparison.method.rawValue) \(Advice.pValue(entry.comparison.adjustedP))\(entry.disagrees ? ": they disagree" : ""))"
        }
        return [
            "The rungs that decide, scored generated too: " + entries.joined(separator: "; ")
                + ". The generated scores decide."
        ]
    }

    func costs(of rung: Rung, against zero: Rung) -> [Message] {
        var costs: [Message] = []
        let extraTokens = rung.promptTokens - zero.promptTokens
        if abs(extraTokens) >= 0.5 {
            costs.append(
                "\(extraTokens > 0 ? "+" : "")\(String(format: "%.0f", extraTokens)) prompt tokens per request")
        }
        if let read = rung.promptTokensRead, prices == nil, rung.promptTokens - read >= 0.5 {
            // Of all its prompt tokens, not of the extra ones: the cache holds the shared beginning.
            costs.append(
                "\(String(format: "%.0f", rung.promptTokens - read)) of its \(String(format: "%.0f", rung.promptTokens)) prompt tokens found in the server's prompt cache"
            )
        }
        let perRequest = cost.perRequest(rung) - cost.perRequest(zero)
        costs.append("\(perRequest >= 0 ? "+" : "−")\(money(abs(perRequest))) per request than zero-shot")
        if let volume = volumePerMonth {
            costs.append(
                "\(money(cost.perRequest(rung) * volume)) a month at \(String(format: "%.0f", volume)) requests")
        }
        let paid = rung.oneOffPaid ? ", already paid" : ""
        if let dollars = rung.oneOffUSD {
            costs.append("a one-off \(Advice.dollars(dollars)) to train\(paid)")
        } else if let seconds = rung.oneOffSeconds {
            costs.append("a one-off \(Advice.duration(seconds)) of training, measured\(paid)")
        } else if rung.kind == .fineTuned {
            costs.append("an unknown one-off cost to train (\(setting: "finetune-cost") USD states it)")
        }
        if rung.labeledExamples > 0 {
            costs.append("\(rung.labeledExamples) labeled example\(rung.labeledExamples == 1 ? "" : "s")")
        }
        return costs
    }

    /// What to do next, in sentences.
    package var next: [Message] {
        guard let (decision, ladder) = finalDecision else { return [] }
        let chosen = ladder[decision.chosen]
        var lines: [Message] = []
        switch decision.verdict {
        case .meets:
            lines.append("Confirm on the held-out test split (\(command: "eval --split test")) before shipping.")
        case .undecided, .short:
            if decision.open {
                lines.append(
                    casesNeeded.map { needed -> Message in
                        needed <= devCases
                            ? "The decision is still open: about \(needed) cases per contender would settle it (80% power, if the differences seen held); more rounds (\(setting: "follow-up")) or a larger \(setting: "budget") would score them."
                            : "The decision is still open: about \(needed) cases per contender would settle it (80% power, if the differences seen held); the eval set has \(devCases) dev cases, so label about \(needed - devCases) more."
                    }
                        ?? "The decision is still open, and no number of cases would settle it if the differences seen held: the rungs are too close to the target or to each other."
                )
            }
            if decision.verdict == .short {
                if case .retrieval(let passages) = chosen.kind {
                    lines.append(
                        "Retrieval helps most: try more passages (\(setting: "passages") \(passages * 2)), check what it finds (\(command: "corpus search")), or a larger model (\(setting: "model"))."
                    )
                }
                lines += curveAdvice()
            }
        case .atBaseline:
            lines.append(
                "Try a larger model (\(setting: "model")), another phrasing of the task (\(command: "template new-variant"), or edit a variant in the REPL)"
                    + (fineTuning == nil
                        ? ", or measure fine-tuning (\(setting: "finetune"))."
                        : ", or fine-tune on more train cases (label more, then \(command: "advise --finetune")).")
            )
        }
        if decision.verdict != .meets, fineTuning == nil, trainCases > 0 {
            lines.append(
                "Fine-tuning was not measured: \(command: "advise --finetune") trains LoRA adapters on the \(trainCases) train cases here and scores them on the same cases."
            )
        }
        if chosen.shipping?.promptFile != nil, let id {
            lines.append(
                "Write the prompt to ship as a variant: \(command: "advise --show \(id) --export DIR"), then \(command: "import DIR")."
            )
        }
        return lines
    }

    /// What the checked learning curve says about more examples, or why it says nothing.
    func curveAdvice() -> [Message] {
        guard let projection, let fewShot else { return [] }
        let similarBest = fewShot.points.map(\.similar).filter { $0.cases > 0 }.map(\.interval.estimate).max()
        guard projection.trusted, let curve = projection.curve else {
            return [
                "The learning curve cannot say whether more examples would help: \(projection.distrust ?? "it could not be fitted")."
            ]
        }
        if let needed = projection.examplesToReach {
            return [
                "The learning curve (checked against k = \(projection.backtest?.k ?? 0)) reaches the target at about \(needed) examples: try \(setting: "max-shots") \(needed)."
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
        return [Message(text)]
    }

    /// A rung's gap to the best: `−0.013 [−0.050, +0.025]`, the interval when it was worked out.
    package static func gap(_ near: NearBest) -> String {
        signed(near.difference) + (near.interval.map { " [\(format($0.lower)), \(format($0.upper))]" } ?? "")
    }

    package static func signed(_ value: Double) -> String {
        (value >= 0 ? "+" : "") + format(value)
    }
}
