import Foundation
import Workbench
import WorkbenchCore

/// Advice as the terminal shows it (and `--show` prints again).
enum AdviceRendering {
    static func n(_ value: Double?, _ digits: Int = 3) -> String {
        guard let value else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    static func interval(_ interval: Interval) -> String {
        "\(n(interval.estimate)) [\(n(interval.lower)), \(n(interval.upper))]"
    }

    /// A run's score with its interval, or what kept it from having one.
    static func score(_ run: RunSummary) -> String {
        run.cases > 0 ? interval(run.interval) : "no score (\(run.errors) failed requests)"
    }

    static func verdict(_ decision: Decision) -> String {
        switch decision.verdict {
        case .meets: "meets the target (shown, with at most a 5% chance of a false claim)"
        case .undecided: "undecided: these cases cannot show whether it reaches the target"
        case .short: "short of the target (shown, with at most a 5% chance of a false claim)"
        case .atBaseline: "no rung scores above the baseline"
        }
    }

    /// Every rung with its score, costs and its test against the target; nil without rungs.
    static func ladder(_ advice: Advice) -> Table? {
        guard !advice.rungs.isEmpty else { return nil }
        let cost = advice.cost
        var columns: [Table.Column] = [
            .init("RUNG"), .init("SCORE [95% CI]"), .init("PROMPT TOK", right: true), .init("PER REQUEST", right: true),
            .init("ONE-OFF", right: true),
        ]
        if advice.volumePerMonth != nil { columns.append(.init("FIRST YEAR", right: true)) }
        columns.append(.init("VS TARGET"))
        var table = Table(columns)
        for (index, rung) in advice.rungs.enumerated() {
            var row = [
                rung.label + (advice.decision?.chosen == index ? " *" : ""), interval(rung.interval),
                n(rung.promptTokens, 1), advice.money(cost.perRequest(rung)),
                cost.oneOff(rung).map { $0 > 0 ? advice.money($0) : "–" } ?? "unknown",
            ]
            if advice.volumePerMonth != nil { row.append(cost.total(rung).map(advice.money) ?? "unknown") }
            if let test = advice.decision?.tests[index] {
                let claim = test.meets ? "meets" : test.short ? "short" : "not shown"
                row.append(
                    "\(claim), adj. \(Advice.pValue(test.meets || !test.short ? test.targetAdjustedP : test.shortAdjustedP))"
                )
            } else {
                row.append("–")
            }
            table.add(row)
        }
        return table
    }

    /// `Advice #2 for sentiment on sentiment (dev)`.
    static func title(_ advice: Advice) -> String {
        let id = advice.id.map { " #\($0)" } ?? ""
        return "Advice\(id) for \(advice.template) on \(advice.evalset) (dev)"
    }

    /// The advice as lines of text; `wording` words the settings and commands its messages name
    /// (the command line's way unless the REPL asks for its own).
    static func lines(_ advice: Advice, wording: (Message) -> String = CLI.worded) -> [String] {
        var lines = [
            "\(title(advice)) · model \(advice.model)"
                + (advice.reader.map { " · " + ReportRendering.readerLabel($0) } ?? "")
        ]
        var scope = "\(advice.casesPerRung) of \(advice.devCases) dev cases per rung to start"
        if advice.casesPerRung < advice.devCases {
            scope += String(format: ": intervals about %.2f× wider than with all of them", advice.intervalWidening)
        }
        lines.append(scope + ".")
        var terms = "Target \(n(advice.target)) · margin \(n(advice.margin))"
        if let value = advice.value { terms += " · \(Advice.dollars(value)) a correct answer" }
        if let prices = advice.prices {
            terms +=
                " · prices $\(n(prices.inputPerMillion, 2)) in / $\(n(prices.outputPerMillion, 2)) out per 1M tokens"
        } else {
            terms += " · no prices given: " + advice.computeTerms
        }
        if let volume = advice.volumePerMonth {
            terms += " · \(String(format: "%.0f", volume)) requests a month (rungs ordered by their first year's cost)"
        } else {
            terms += " · rungs ordered by cost per request, a one-off cost still to pay after it"
        }
        lines.append(terms + ".")
        if let baseline = advice.baseline {
            lines.append(
                "Baseline: chance with \(baseline.labels) labels \(n(baseline.chance)); always \"\(baseline.majorityLabel)\" \(n(baseline.majority)). A rung must score significantly above the higher to count as helping."
            )
        }

        for (number, step) in advice.steps.enumerated() {
            lines +=
                ["", "\(number + 1). \(step.title)"]
                + self.step(step, advice: advice, wording: wording).map {
                    "   " + $0
                }
        }

        if let table = ladder(advice) {
            lines += [
                "",
                "The ladder (per request: \(advice.prices == nil ? "local compute time" : "price"); vs target: one-sided test, Holm-adjusted)",
            ]
            lines += table.render().map { "   " + $0 }
        }

        if let projection = advice.projection {
            lines += ["", "Scenario, not measured: the few-shot learning curve"]
            lines += scenario(projection, advice: advice, wording: wording).map { "   " + $0 }
        }

        if let followUp = advice.followUp {
            lines += ["", "Follow-up: the contenders scored on more dev cases while the decision was open"]
            lines += followUpLines(followUp, wording: wording).map { "   " + $0 }
        }
        if let (decision, rungs) = advice.finalDecision {
            let chosen = rungs[decision.chosen]
            lines += [
                "", "Recommendation: \(chosen.label) — \(verdict(decision)), \(interval(chosen.interval))",
            ]
            if decision.chosen != decision.best, let near = decision.tests[decision.chosen].againstBest {
                lines.append(
                    "  Against the best, \(rungs[decision.best].label): \(Advice.gap(near)) on \(near.pairs) shared cases."
                )
            }
            lines += advice.reasons.map { "  " + wording($0) }
            let next = advice.next
            if !next.isEmpty { lines += ["Next:"] + next.map { "  " + wording($0) } }
            lines += ["", "The rule: " + advice.rule]
        }
        lines += [
            "",
            "Measured in \(Advice.duration(advice.elapsedSeconds)).\(advice.id.map { " \(wording("\(command: "advise --show \($0)")")) prints this again." } ?? "")",
        ]
        return lines
    }

    /// One step of the ladder: what it measured, or why it measured nothing.
    static func step(_ step: AdviceStep, advice: Advice, wording: (Message) -> String = CLI.worded) -> [String] {
        switch step {
        case .skipped(let skipped):
            return ["skipped: \(wording(skipped.reason))."]
        case .zeroShot(let zeroShot):
            var table = Table([
                .init("VARIANT"), .init("SCORE [95% CI]"), .init("PROMPT TOK", right: true),
                .init("P50 MS", right: true), .init("RUN", right: true),
            ])
            for run in zeroShot.variants {
                table.add([
                    run.variant + (run.variant == zeroShot.best ? " *" : ""), score(run), n(run.promptTokens, 1),
                    n(run.latencyP50Milliseconds, 0), String(run.run),
                ])
            }
            return table.render()
                + zeroShot.comparisons.map { "best vs \($0.variant): \(comparison($0.comparison, adjusted: true))" }
        case .fewShot(let fewShot):
            var lines = [
                "with \(fewShot.variant): \(fewShot.draws) random draws per k (each a prompt of its own), and the k most similar train cases (BM25)"
            ]
            var table = Table([
                .init("K", right: true), .init("RANDOM DRAWS"), .init("SIMILAR [95% CI]"),
                .init("PROMPT TOK", right: true), .init("P50 MS", right: true),
            ])
            for point in fewShot.points {
                let draws = point.random.map { $0.cases > 0 ? n($0.interval.estimate) : "–" }.joined(separator: " ")
                table.add([
                    String(point.k), draws, score(point.similar), n(point.random.first?.promptTokens, 1),
                    n(point.random.first?.latencyP50Milliseconds, 0),
                ])
            }
            lines += table.render()
            lines.append("tried k up to \(fewShot.maxShots), limited by \(wording(fewShot.limitedBy))")
            return lines
        case .retrieval(let retrieval):
            return [
                "\(retrieval.passages) passages from \(retrieval.corpus) per case: \(score(retrieval.run)), \(n(retrieval.run.promptTokens, 1)) prompt tokens (run \(retrieval.run.run))",
                "against zero-shot: \(comparison(retrieval.comparison, adjusted: false))",
            ]
        case .fineTuning(let tuned):
            return fineTuned(tuned, advice: advice, wording: wording)
        }
    }

    /// Fine-tuning measured: the adapters trained here, a provider's job, or a served model; and
    /// what the tuned rung saves against the rung chosen without it.
    static func fineTuned(_ tuned: Advice.FineTuned, advice: Advice, wording: (Message) -> String) -> [String] {
        var lines: [String] = []
        if let job = tuned.job {
            lines.append(
                "job \(job.id) at \(job.provider)\(job.reused ? " (from before: nothing sent)" : ""): \(job.baseModel) tuned for \(job.epochs) epochs into \(tuned.model ?? "?"), \(job.trainedTokens.map { "\($0) trained tokens" } ?? "trained tokens unknown")\(job.costUSD.map { ", " + Advice.dollars($0) } ?? "")\(job.wallSeconds.map { ", " + Advice.duration($0) } ?? "")"
            )
            lines.append("measured: \(score(tuned.run)) (run \(tuned.run.run))")
        } else if let model = tuned.model {
            lines.append("measured with \(model): \(score(tuned.run)) (run \(tuned.run.run))")
        } else {
            lines += fineTunedAdapters(tuned)
        }
        if let saved = tuned.tokensSavedPerRequest, let alternative = tuned.alternative {
            let saving = tuned.savingPerRequest ?? 0
            lines.append(
                "against \(alternative), the rung chosen without it: \(String(format: "%.0f", saved)) prompt tokens fewer per request, \(saving >= 0 ? "saving" : "but costing") \(advice.money(abs(saving)))\(saving >= 0 ? "" : " more") each\(advice.value == nil ? "" : " (with the value of the score it adds)")"
            )
        }
        if let breakEven = tuned.breakEvenRequests {
            var text = "pays for itself after \(String(format: "%.0f", breakEven)) requests"
            if let volume = advice.volumePerMonth, volume > 0 {
                text += String(format: " (%.1f months at the given volume)", breakEven / volume)
            }
            lines.append(
                text + (advice.value == nil ? wording("; cost only: quality counts with \(setting: "value")") : ""))
        } else if let saving = tuned.savingPerRequest, saving <= 0, let alternative = tuned.alternative {
            lines.append(
                "no break-even: it costs \(advice.money(-saving)) more per request than \(alternative), so its one-off cost is never paid back"
            )
        } else if advice.fineTuneCostUSD == nil && tuned.adapters.isEmpty && tuned.job == nil {
            lines.append(
                wording(
                    "one-off cost: unknown (\(setting: "finetune-cost") USD states it; with prices it sets the break-even)"
                ))
        } else if advice.prices == nil && tuned.job != nil {
            lines.append(
                wording(
                    "no break-even: the job's cost is in dollars and, without \(setting: "price-in")/\(setting: "price-out"), requests are costed in compute time"
                )
            )
        }
        return lines
    }

    /// The follow-up's rounds: the cases, the contenders, the requests; and why it ended.
    static func followUpLines(_ followUp: Advice.FollowUp, wording: (Message) -> String) -> [String] {
        var lines = followUp.rounds.map { round in
            "\(round.cases) cases: \(round.contenders.joined(separator: ", ")) (\(round.requests) requests)"
        }
        let spent = followUp.rounds.map(\.requests).reduce(0, +)
        lines.append(
            "\(spent) of \(followUp.requestBudget) requests spent; it ended because \(wording(followUp.ended))")
        return lines
    }

    /// The adapters trained here: data, time, score, and each against the best prompting rung.
    static func fineTunedAdapters(_ tuned: Advice.FineTuned) -> [String] {
        var lines = [
            "LoRA adapters trained here on the first N train cases, scored with the zero-shot prompt on the same dev cases:"
        ]
        var table = Table([
            .init("N", right: true), .init("SCORE [95% CI]"), .init("TRAINING", right: true),
            .init("EX/S", right: true), .init("VS BEST PROMPTING (paired, unadjusted)"), .init("RUN", right: true),
        ])
        for adapter in tuned.adapters {
            table.add([
                String(adapter.trainCases), score(adapter.run), Advice.duration(adapter.trainingSeconds),
                String(format: "%.2f", adapter.examplesPerSecond),
                adapter.againstPrompting.map { "\($0.variant): \(comparison($0.comparison, adjusted: false))" } ?? "–",
                String(adapter.run.run),
            ])
        }
        lines += table.render()
        if let gain = tuned.gainPerDoubling {
            lines.append(
                "measured, not projected: \(Advice.signed(gain)) per doubling of the train cases (least squares over the sizes above); it describes these sizes and decides nothing"
            )
        }
        if let estimate = tuned.estimatedSeconds, let budget = tuned.budgetSeconds {
            let spent = tuned.adapters.map(\.trainingSeconds).reduce(0, +)
            lines.append(
                "training took \(Advice.duration(spent)), estimated \(Advice.duration(estimate)) up front, budget \(Advice.duration(budget))"
            )
        }
        return lines
    }

    /// The learning curve as a scenario: its fit, its check, and how far it may be read.
    static func scenario(_ projection: Projection, advice: Advice, wording: (Message) -> String) -> [String] {
        let ks = projection.points.map { String($0.k) }.joined(separator: ", ")
        guard let curve = projection.curve else {
            return ["no curve: \(projection.distrust.map(wording) ?? "too few points")."]
        }
        var lines = [
            "\(curve.formula), fitted to k = \(ks) (random draws averaged; k = 0 is the best zero-shot variant, chosen on the same cases, so a little high)"
        ]
        if let backtest = projection.backtest {
            lines.append(
                "checked: fitted up to k = \(backtest.fittedUpTo), it predicted \(n(backtest.predicted)) at k = \(backtest.k), where \(n(backtest.observed)) was measured"
            )
        }
        if let distrust = projection.distrust {
            lines.append("not to be believed: \(wording(distrust)).")
            return lines
        }
        if let supported = projection.supportedUpTo {
            lines.append("it may be read up to k ≈ \(supported), as far as that check reached")
        }
        if let scenario = projection.atTrainSize {
            lines.append(
                "at the \(scenario.k) train cases, as if every one could be shown: \(interval(scenario.interval)); a fine-tune may do better or worse, and only measuring it says which"
            )
        } else if let refused = projection.atTrainSizeRefused {
            lines.append("no scenario for fine-tuning: \(refused).")
        }
        return lines
    }

    static func comparison(_ comparison: Comparison, adjusted: Bool) -> String {
        let p = adjusted ? comparison.adjustedP : comparison.p
        return
            "\(Advice.signed(comparison.difference)), \(comparison.method.rawValue) \(Advice.pValue(p))\(comparison.isSignificant ? ", significantly \(comparison.direction)" : ", not significant")"
    }
}
