import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// Examples from the train split in the best variant's `{{examples}}` slot: k = 1, 2, 4, … (up
/// to what fits the context, the train split and `--max-shots`), chosen at random in several
/// seeded draws (each draw a rung of its own: a prompt one could ship) and by similarity to each
/// case (BM25 over the train inputs).
struct FewShotStep: LadderStep {
    static let title = "Few-shot examples"

    func climb(_ context: AdviceContext) async throws -> AdviceStep {
        guard let revision = context.bestRevision, let best = context.best else {
            return .skipped(Advice.Skipped(title: Self.title, reason: "there is no zero-shot variant to show examples"))
        }
        guard !context.train.isEmpty else {
            return .skipped(
                Advice.Skipped(title: Self.title, reason: "the eval set has no train split to take examples from"))
        }
        guard revision.file.settings.exampleFormat != nil else {
            return .skipped(
                Advice.Skipped(
                    title: Self.title,
                    reason: "\(revision.reference) has no example_format, so it cannot be shown examples"
                ))
        }
        let options = context.options
        let fit = try await maxShotsThatFit(revision, zeroShot: best, context: context)
        let limit = min(fit ?? options.maxShots, options.maxShots, context.train.count)
        guard limit >= 1 else {
            return .skipped(
                Advice.Skipped(
                    title: Self.title,
                    reason:
                        "the context is too small for even one example (the zero-shot prompt takes \(Int(best.meanPromptTokens ?? 0)) tokens)"
                ))
        }
        let ks = Array(sequence(first: 1, next: { $0 * 2 }).prefix(while: { $0 <= limit }))
        // Every k's draws and similar run are independent of one another: scored together, the
        // server's slots each keep one run's examples (the similar runs one slot's, a case's k one
        // after another) and none waits for a run to end. Per k: the random draws, then similar.
        var evaluations: [(label: String, options: EvalOptions)] = []
        for k in ks {
            for draw in 0..<options.draws {
                let random = Strategy(shots: k, selection: .random, draw: draw)
                evaluations.append(("\(k)-shot random #\(draw + 1)", context.base.with { $0.strategy = random }))
            }
            let similar = Strategy(shots: k, selection: .similar)
            evaluations.append(("\(k)-shot similar", context.base.with { $0.strategy = similar }))
        }
        for index in evaluations.indices { evaluations[index].options.variants = context.pinned }
        let label = ks.count == 1 ? "1-shot" : "1…\(ks[ks.count - 1])-shot"
        let reports = try await context.runTogether(label, evaluations).map { $0.runs[0] }
        context.ladderRuns += reports.map(\.run.id)
        var points: [Advice.FewShotPoint] = []
        var measured = Array(zip(evaluations, reports))[...]
        for k in ks {
            let draws = Array(measured.prefix(options.draws))
            measured = measured.dropFirst(options.draws)
            let (similarEvaluation, similar) = measured.removeFirst()
            points.append(
                Advice.FewShotPoint(
                    k: k, random: draws.map { AdviceContext.summary($0.1) }, similar: AdviceContext.summary(similar)))
            var mean: [Int: Double] = [:]
            let scored = draws.filter { !$0.1.perCase.isEmpty }
            for (evaluation, run) in scored {
                for (id, score) in run.perCase { mean[id, default: 0] += score / Double(scored.count) }
                var rung = try context.rung(
                    run, kind: .fewShot(k: k, selection: .random), label: evaluation.label,
                    shipping: try shipping(revision, k: k, draw: evaluation.options.strategy.draw, context: context))
                rung.labeledExamples = k
                context.add(rung, options: evaluation.options)
            }
            if !scored.isEmpty { context.curveSeries.append((k, mean)) }
            var similarRung = try context.rung(
                similar, kind: .fewShot(k: k, selection: .similar), label: similarEvaluation.label,
                shipping: Shipping(
                    description:
                        "\(revision.reference) with, before each input, the \(k) train case\(k == 1 ? "" : "s") most like it (BM25 over the \(context.train.count) train inputs), each written in its example_format",
                    revision: revision.reference))
            similarRung.labeledExamples = context.train.count
            context.add(similarRung, options: similarEvaluation.options)
        }
        return .fewShot(
            Advice.FewShot(
                variant: revision.reference, draws: options.draws, maxShots: limit,
                limitedBy: limit == context.train.count
                    ? "the \(context.train.count) train cases"
                    : limit == fit ? "the context window" : "\(setting: "max-shots") \(options.maxShots)",
                points: points))
    }

    /// A random draw's prompt as one file: its examples, by id, written into the slot.
    func shipping(_ revision: ResolvedRevision, k: Int, draw: Int, context: AdviceContext) throws -> Shipping {
        let chosen = FewShot.random(
            from: context.train.map(\.evalCase), k: k,
            seed: Library.drawSeed(seed: context.options.seed, draw: draw))
        let block = try FewShot.render(
            chosen, format: try context.workspace.library.exampleFormat(revision),
            separator: revision.file.settings.exampleSeparator ?? "\n\n")
        let ids = chosen.map(\.id).joined(separator: ", ")
        var file: String?
        if let body = revision.file.body.filling(TemplateBody.examplesSlot, with: block) {
            var settings = revision.file.settings
            settings.description =
                "\(revision.reference) with the \(k) example\(k == 1 ? "" : "s") \(ids) written in (advised by pwb advise)"
            file = PromptFile(settings: settings, body: body).canonicalText
        }
        return Shipping(
            description:
                "\(revision.reference) with the \(k) train example\(k == 1 ? "" : "s") \(ids) before every input",
            promptFile: file, revision: revision.reference)
    }

    /// How many examples fit: the context, less the zero-shot prompt and the tokens generated,
    /// over the tokens of one example (counted by the server when it can, else estimated).
    func maxShotsThatFit(_ revision: ResolvedRevision, zeroShot: RunReport, context: AdviceContext) async throws
        -> Int?
    {
        let model = try await context.workspace.runtime.connect(
            ModelChoice(zeroShot.modelName), environment: context.environment)
        guard let size = model.properties.contextSize else { return nil }
        let format = try context.workspace.library.exampleFormat(revision)
        let sample = Array(context.train.prefix(8).map(\.evalCase))
        let block = try FewShot.render(
            sample, format: format, separator: revision.file.settings.exampleSeparator ?? "\n\n")
        let tokens = try await model.client.tokenCount(block).map(Double.init) ?? Double(block.utf8.count) / 3
        let perExample = max(1, tokens / Double(sample.count))
        let room =
            Double(size) - (zeroShot.meanPromptTokens ?? 0) * 1.5
            - Double(revision.file.settings.maxTokens ?? Prompting.defaultMaxTokens)
        return max(0, Int(room / perExample))
    }
}
