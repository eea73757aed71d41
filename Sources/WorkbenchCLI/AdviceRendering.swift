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
        case .undecided: "undecided: the best reaches the target on these cases, but that is not enough to show it"
        case .short: "nothing reaches the target; the cheapest rung not significantly worse than the best"
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
                row.append("\(test.meets ? "meets" : "not shown"), adj. \(Advice.pValue(test.adjustedP))")
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

    static func lines(_ advice: Advice) -> [String] {
        var lines = [
            "\(title(advice)) · model \(advice.model)"
                + (advice.reader.map { " · " + ReportRendering.readerLabel($0) } ?? "")
        ]
        var scope = "\(advice.casesPerRung) of \(advice.devCases) dev cases per rung"
        if advice.casesPerRung < advice.devCases {
            scope += String(format: ": intervals about %.2f× wider than with all of them", advice.intervalWidening)
        }
        lines.append(scope + ".")
        var terms = "Target \(n(advice.target))"
        if let prices = advice.prices {
            terms +=
                " · prices $\(n(prices.inputPerMillion, 2)) in / $\(n(prices.outputPerMillion, 2)) out per 1M tokens"
        } else {
            terms += " · no prices given: " + advice.computeTerms
        }
        if let volume = advice.volumePerMonth { terms += " · \(String(format: "%.0f", volume)) requests a month" }
        lines.append(terms + ".")
        if let baseline = advice.baseline {
            lines.append(
                "Baseline: chance with \(baseline.labels) labels \(n(baseline.chance)); always \"\(baseline.majorityLabel)\" \(n(baseline.majority)). A rung must score significantly above the higher to count as helping."
            )
        }

        lines += ["", "1. Zero-shot, every variant"]
        var zeroTable = Table([
            .init("VARIANT"), .init("SCORE [95% CI]"), .init("PROMPT TOK", right: true), .init("P50 MS", right: true),
            .init("RUN", right: true),
        ])
        for run in advice.zeroShot.variants {
            zeroTable.add([
                run.variant + (run.variant == advice.zeroShot.best ? " *" : ""), score(run), n(run.promptTokens, 1),
                n(run.latencyP50Milliseconds, 0), String(run.run),
            ])
        }
        lines += zeroTable.render().map { "   " + $0 }
        for item in advice.zeroShot.comparisons {
            lines.append("   best vs \(item.variant): \(comparison(item.comparison, adjusted: true))")
        }

        lines += ["", "2. Few-shot examples"]
        if let skipped = advice.fewShot.skipped {
            lines.append("   skipped: \(skipped).")
        } else if let fewShot = advice.fewShot.measured {
            lines.append(
                "   with \(fewShot.variant): \(fewShot.draws) random draws per k, and the k most similar train cases (BM25)"
            )
            var table = Table([
                .init("K", right: true), .init("RANDOM MEAN [MIN–MAX]"), .init("SIMILAR [95% CI]"),
                .init("PROMPT TOK", right: true), .init("P50 MS", right: true),
            ])
            for point in fewShot.points {
                let scores = point.randomScores
                let random =
                    scores.isEmpty
                    ? "no score"
                    : "\(n(point.randomMean)) [\(n(scores.min()))–\(n(scores.max()))]"
                        + (scores.count < point.random.count
                            ? " (\(point.random.count - scores.count) draws failed)" : "")
                table.add([
                    String(point.k), random, score(point.similar), n(point.random.first?.promptTokens, 1),
                    n(point.random.first?.latencyP50Milliseconds, 0),
                ])
            }
            lines += table.render().map { "   " + $0 }
            lines.append("   tried k up to \(fewShot.maxShots), limited by \(fewShot.limitedBy)")
        }

        lines += ["", "3. Retrieval"]
        if let skipped = advice.retrieval.skipped {
            lines.append("   skipped: \(skipped).")
        } else if let retrieval = advice.retrieval.measured {
            lines.append(
                "   \(retrieval.passages) passages from \(retrieval.corpus) per case: \(score(retrieval.run)), \(n(retrieval.run.promptTokens, 1)) prompt tokens (run \(retrieval.run.run))"
            )
            lines.append("   against zero-shot: \(comparison(retrieval.comparison, adjusted: false))")
        }

        lines += ["", "4. Fine-tuning"]
        if let skipped = advice.fineTuning.skipped {
            lines.append("   \(skipped).")
        } else if let tuned = advice.fineTuning.measured {
            if let model = tuned.model {
                lines.append("   measured with \(model): \(score(tuned.run)) (run \(tuned.run.run))")
            } else {
                lines += fineTunedAdapters(tuned).map { "   " + $0 }
            }
            if let saved = tuned.tokensSavedPerRequest, let alternative = tuned.alternative {
                lines.append(
                    "   against \(alternative), the rung chosen without it: \(String(format: "%.0f", saved)) prompt tokens fewer per request, \((tuned.savingPerRequest ?? 0) >= 0 ? "saving" : "but costing") \(advice.money(abs(tuned.savingPerRequest ?? 0)))\((tuned.savingPerRequest ?? 0) >= 0 ? "" : " more") each"
                )
            }
            if let breakEven = tuned.breakEvenRequests {
                var text = "   pays for itself after \(String(format: "%.0f", breakEven)) requests"
                if let volume = advice.volumePerMonth, volume > 0 {
                    text += String(format: " (%.1f months at the given volume)", breakEven / volume)
                }
                lines.append(text)
            } else if let saving = tuned.savingPerRequest, saving <= 0, let alternative = tuned.alternative {
                lines.append(
                    "   no break-even: it costs \(advice.money(-saving)) more per request than \(alternative), so its one-off cost is never paid back"
                )
            } else if advice.fineTuneCostUSD == nil && tuned.adapters.isEmpty {
                lines.append(
                    "   one-off cost: unknown (--finetune-cost USD states it; with prices it sets the break-even)")
            } else if advice.prices == nil {
                lines.append(
                    "   no break-even: the one-off cost is in dollars and, without --price-in/--price-out, requests are costed in compute time"
                )
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
            lines += scenario(projection, advice: advice).map { "   " + $0 }
        }

        if let decision = advice.decision, let chosen = advice.recommended {
            lines += [
                "", "Recommendation: \(chosen.label) — \(verdict(decision)), \(interval(chosen.interval))",
            ]
            lines += advice.reasons.map { "  " + $0 }
            let next = advice.next
            if !next.isEmpty { lines += ["Next:"] + next.map { "  " + $0 } }
            lines += ["", "The rule: " + DecisionRule.statement]
        }
        lines += [
            "",
            "Measured in \(Advice.duration(advice.elapsedSeconds)).\(advice.id.map { " pwb advise --show \($0) prints this again." } ?? "")",
        ]
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
    static func scenario(_ projection: Projection, advice: Advice) -> [String] {
        let ks = projection.points.map { String($0.k) }.joined(separator: ", ")
        guard let curve = projection.curve else {
            return ["no curve: \(projection.distrust ?? "too few points")."]
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
            lines.append("not to be believed: \(distrust).")
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
