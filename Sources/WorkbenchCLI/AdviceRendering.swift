import Foundation
import WorkbenchCore

/// Advice as the terminal shows it, from the JSON that is stored (so `--show` prints the same).
enum AdviceRendering {
    static func n(_ value: JSONValue?, _ digits: Int = 3) -> String {
        guard let value = value?.doubleValue else { return "–" }
        return String(format: "%.\(digits)f", value)
    }

    /// A score with its interval; a projection has no interval, so it shows the score alone.
    static func interval(_ object: JSONValue?) -> String {
        guard let object else { return "–" }
        guard let low = object["low"]?.doubleValue, let high = object["high"]?.doubleValue, low < high else {
            return "\(n(object["score"])) (no interval)"
        }
        return "\(n(object["score"])) [\(n(.number(low))), \(n(.number(high)))]"
    }

    static func cost(_ value: Double, unit: String) -> String {
        unit == "USD" ? DecisionRules.dollars(value) : DecisionRules.duration(value)
    }

    static func verdict(_ recommendation: JSONValue) -> String {
        switch recommendation["verdict"]?.stringValue {
        case "meets": "meets the target"
        case "likely": "likely meets the target"
        default: "the best value; nothing reaches the target"
        }
    }

    /// Every rung with its score, tokens and costs; nil when the advice has none.
    static func ladder(_ report: JSONValue) -> Table? {
        guard let rungs = report["rungs"]?.arrayValue, !rungs.isEmpty else { return nil }
        let unit = report["cost_unit"]?.stringValue ?? "USD"
        let hasVolume = report["volume"]?.doubleValue != nil
        var columns: [Table.Column] = [
            .init("RUNG"), .init("SCORE [95% CI]"), .init("PROMPT TOK", right: true),
            .init("PER REQUEST", right: true),
            .init("ONE-OFF", right: true),
        ]
        if hasVolume { columns.append(.init("FIRST YEAR", right: true)) }
        var table = Table(columns)
        for rung in rungs {
            var row = [
                (rung["label"]?.text ?? "") + (rung["measured"]?.boolValue == false ? " *" : ""),
                interval(rung), n(rung["prompt_tokens"], 1),
                cost(rung["per_request"]?.doubleValue ?? 0, unit: unit),
                rung["one_off"] == "unknown"
                    ? "unknown" : rung["one_off"]?.doubleValue.map { cost($0, unit: unit) } ?? "–",
            ]
            if hasVolume { row.append(rung["total"]?.doubleValue.map { cost($0, unit: unit) } ?? "unknown") }
            table.add(row)
        }
        return table
    }

    /// `Advice #2 for sentiment on sentiment (dev)`.
    static func title(_ report: JSONValue) -> String {
        let id = report["id"]?.intValue.map { " #\($0)" } ?? ""
        return "Advice\(id) for \(report["template"]?.text ?? "") on \(report["evalset"]?.text ?? "") (dev)"
    }

    static func lines(_ report: JSONValue) -> [String] {
        var lines: [String] = []
        let unit = report["cost_unit"]?.stringValue ?? "USD"
        let id = report["id"]?.intValue.map { " #\($0)" } ?? ""
        lines.append("\(title(report)) · model \(report["model"]?.text ?? "")")
        let used = report["cases_per_rung"]?.intValue ?? 0
        let total = report["dev_cases"]?.intValue ?? 0
        var scope = "\(used) of \(total) dev cases per rung"
        if used < total {
            scope += String(
                format: ": intervals about %.2f× wider than with all of them",
                report["interval_widening"]?.doubleValue ?? 1)
        }
        lines.append(scope + ".")
        var terms = "Target \(n(report["target"]))"
        if let prices = report["prices"], prices != .null {
            terms += " · prices $\(n(prices["in"], 2)) in / $\(n(prices["out"], 2)) out per 1M tokens"
        } else {
            terms += " · no prices given: costs are the local compute time each request took"
        }
        if let volume = report["volume"]?.doubleValue { terms += " · \(Int(volume)) requests a month" }
        lines.append(terms + ".")

        lines += ["", "1. Zero-shot, every variant"]
        if let zero = report["zero_shot"] {
            var table = Table([
                .init("VARIANT"), .init("SCORE [95% CI]"), .init("PROMPT TOK", right: true),
                .init("P50 MS", right: true),
                .init("RUN", right: true),
            ])
            for run in zero["runs"]?.arrayValue ?? [] {
                let best = run["variant"]?.stringValue == zero["best"]?.stringValue
                table.add([
                    (run["variant"]?.text ?? "") + (best ? " *" : ""), interval(run), n(run["prompt_tokens"], 1),
                    n(run["latency_p50_ms"], 0), run["run"]?.text ?? "",
                ])
            }
            lines += table.render().map { "   " + $0 }
            for comparison in zero["comparisons"]?.arrayValue ?? [] {
                lines.append(
                    "   best vs \(comparison["other"]?.text ?? ""): \(signed(comparison["difference"])), \(comparison["method"]?.text ?? "") \(p(comparison["p_adjusted"]))\(comparison["significant"]?.boolValue == true ? ", significant" : ", not significant")"
                )
            }
        }

        lines += ["", "2. Few-shot examples"]
        if let fewShot = report["few_shot"] {
            if let skipped = fewShot["skipped"]?.stringValue {
                lines.append("   skipped: \(skipped).")
            } else {
                let draws = fewShot["draws"]?.intValue ?? 3
                lines.append(
                    "   with \(fewShot["variant"]?.text ?? ""): \(draws) random draws per k, and the k most similar train cases (BM25)"
                )
                var table = Table([
                    .init("K", right: true), .init("RANDOM MEAN [MIN–MAX]"), .init("SIMILAR [95% CI]"),
                    .init("PROMPT TOK", right: true), .init("P50 MS", right: true),
                ])
                for point in fewShot["points"]?.arrayValue ?? [] {
                    let similar = point["similar"]
                    let firstDraw = point["random"]?.arrayValue?.first
                    table.add([
                        point["k"]?.text ?? "",
                        "\(n(point["random_mean"])) [\(n(point["random_min"]))–\(n(point["random_max"]))]",
                        interval(similar), n(firstDraw?["prompt_tokens"], 1), n(firstDraw?["latency_p50_ms"], 0),
                    ])
                }
                lines += table.render().map { "   " + $0 }
                if let curve = fewShot["curve"], curve != .null {
                    var text = "   learning curve (random means): \(curve["formula"]?.text ?? "")"
                    if let saturation = curve["saturation"]?.intValue {
                        text += "; within 0.01 of its ceiling from k ≈ \(saturation)"
                    } else if curve["rises"]?.boolValue == false {
                        text += "; more examples do not help"
                    }
                    lines.append(text)
                }
                lines.append(
                    "   tried k up to \(fewShot["max_shots"]?.text ?? "?"), limited by \(fewShot["limited_by"]?.text ?? "?")"
                )
            }
        }

        lines += ["", "3. Retrieval"]
        if let retrieval = report["retrieval"] {
            if let skipped = retrieval["skipped"]?.stringValue {
                lines.append("   skipped: \(skipped).")
            } else {
                let comparison = retrieval["comparison"]
                lines.append(
                    "   \(retrieval["passages"]?.text ?? "3") passages from \(retrieval["corpus"]?.text ?? "") per case: \(interval(retrieval)), \(n(retrieval["prompt_tokens"], 1)) prompt tokens (run \(retrieval["run"]?.text ?? ""))"
                )
                lines.append(
                    "   against zero-shot: \(signed(retrieval["gain"])), \(comparison?["method"]?.text ?? "") \(p(comparison?["p"]))\(comparison?["significant"]?.boolValue == true ? ", significant" : ", not significant")"
                )
            }
        }

        lines += ["", "4. Fine-tuning"]
        if let fineTuning = report["fine_tuning"] {
            if let skipped = fineTuning["skipped"]?.stringValue {
                lines.append("   skipped: \(skipped).")
            } else {
                let measured = fineTuning["measured"]?.boolValue == true
                lines.append(
                    measured
                        ? "   measured with \(fineTuning["label"]?.text ?? ""): \(interval(fineTuning))"
                        : fineTuning["low"] == fineTuning["high"]
                            ? "   projected from the learning curve and the \(fineTuning["train_cases"]?.text ?? "?") train cases: \(n(fineTuning["score"])), the best few-shot score (the fitted curve levels off below it, so it promises no more)"
                            : "   projected from the learning curve and the \(fineTuning["train_cases"]?.text ?? "?") train cases: \(interval(fineTuning)) (the low end is the best few-shot score, the high end the curve's ceiling)"
                )
                if let saved = fineTuning["tokens_saved_per_request"]?.doubleValue {
                    lines.append(
                        "   saves \(Int(saved.rounded())) prompt tokens per request against \(fineTuning["compared_with"]?.text ?? "few-shot") (\(cost(fineTuning["saving_per_request"]?.doubleValue ?? 0, unit: unit)) each)"
                    )
                }
                if let usd = fineTuning["one_off_usd"]?.doubleValue {
                    lines.append("   one-off cost: \(DecisionRules.dollars(usd))")
                } else if let seconds = fineTuning["one_off_seconds"]?.doubleValue {
                    lines.append(
                        "   one-off cost: ≈\(DecisionRules.duration(seconds)) of training compute here (3 epochs, forward and backward at 3× the measured prompt speed; an estimate)"
                    )
                }
                if let breakEven = fineTuning["break_even_requests"]?.doubleValue {
                    var text = "   pays for itself after \(Int(breakEven.rounded())) requests"
                    if let months = fineTuning["break_even_months"]?.doubleValue {
                        text += String(format: " (%.1f months at the given volume)", months)
                    }
                    lines.append(text)
                }
                if let warning = fineTuning["warning"]?.stringValue { lines.append("   note: \(warning)") }
            }
        }

        if let table = ladder(report) {
            lines += ["", "The ladder (per request: \(unit == "USD" ? "price" : "local compute time"))"]
            lines += table.render().map { "   " + $0 }
            if report["rungs"]?.arrayValue?.contains(where: { $0["measured"]?.boolValue == false }) == true {
                lines.append("   * projected, not measured")
            }
        }

        if let recommendation = report["recommendation"] {
            lines += [
                "",
                "Recommendation: \(recommendation["rung"]?.text ?? "") — \(verdict(recommendation)), \(interval(recommendation))",
            ]
            lines += (recommendation["reasons"]?.arrayValue ?? []).map { "  " + $0.text }
            let next = recommendation["next"]?.arrayValue ?? []
            if !next.isEmpty { lines += ["Next:"] + next.map { "  " + $0.text } }
        }
        if let seconds = report["elapsed_seconds"]?.doubleValue {
            lines += [
                "",
                "Measured in \(DecisionRules.duration(seconds)).\(id.isEmpty ? "" : " pwb advise --show\(id.replacingOccurrences(of: "#", with: "")) prints this again.")",
            ]
        }
        return lines
    }

    static func signed(_ value: JSONValue?) -> String {
        guard let number = value?.doubleValue else { return "–" }
        return (number >= 0 ? "+" : "") + String(format: "%.3f", number)
    }

    static func p(_ value: JSONValue?) -> String {
        guard let number = value?.doubleValue else { return "p=–" }
        return ReportRendering.pValue(number)
    }
}
