import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// The request each case makes: the prompt rendered with its examples (a random draw shared by the
/// run, or the train cases most like the input) and retrieved passages, as the reader asks it.
extension Library {
    /// The request for one case of a run: rendered with its examples (shared, or the most similar
    /// train cases) and retrieved passages, sampled with the run's seed.
    func request(_ run: PlannedRun, case stored: StoredCase, evalset: LoadedEvalSet, sample: Int, seed: Int) throws
        -> CompletionRequest
    {
        let strategy = run.strategy
        let input = stored.evalCase.inputText(inputVariable: evalset.settings.input)
        var examples = run.sharedExamples
        if strategy.shots > 0 && strategy.selection == .similar {
            let similar = try similarCases(
                evalsetID: evalset.record.id, to: stored, k: strategy.shots, inputVariable: evalset.settings.input)
            examples = try FewShot.render(
                similar.map(\.evalCase), format: try exampleFormat(run.revision),
                separator: run.revision.file.settings.exampleSeparator ?? "\n\n")
        }
        var context: String?
        if let corpusName = strategy.corpus {
            let passages = try searchPassages(
                corpus: try corpus(named: corpusName), query: input, limit: strategy.passages)
            context = FewShot.renderContext(passages.map(\.document.passage))
        }
        let temperature = run.revision.file.settings.temperature ?? 0
        var request = try Prompting.request(
            run.revision.file, reference: run.revision.reference, vars: stored.evalCase.textVars, examples: examples,
            context: context, seed: temperature > 0 ? seed &+ sample : nil,
            topLogprobs: evalset.settings.scorers.contains { $0.kind.needsLogprobs } ? 20 : 0)
        // What each reader asks is in the cache key, so no answer read one way stands in for another.
        switch run.reader {
        case .generate: break
        case .oneToken:
            request.maxTokens = run.record.params.readTokens
            request.topLogprobs = max(request.topLogprobs, OneTokenLabels.topLogprobs)
        case .choice:
            let labels = evalset.settings.labels
            request.choice = labels
            // Room for the longest label whatever the template allows: a constrained answer cut
            // short is no label at all. (A token is at least a byte.)
            request.maxTokens = max(request.maxTokens, (labels.map(\.utf8.count).max() ?? 0) + 2)
        }
        return request
    }

    /// The rendered few-shot block for a random draw, or nil for zero-shot.
    func sharedExamples(_ revision: ResolvedRevision, strategy: Strategy, train: [StoredCase], seed: Int) throws
        -> String?
    {
        guard strategy.shots > 0, strategy.selection == .random else { return nil }
        let format = try exampleFormat(revision)
        let chosen = FewShot.random(
            from: train.map(\.evalCase), k: strategy.shots, seed: Library.drawSeed(seed: seed, draw: strategy.draw))
        return try FewShot.render(chosen, format: format, separator: revision.file.settings.exampleSeparator ?? "\n\n")
    }

    func exampleFormat(_ revision: ResolvedRevision) throws -> TemplateBody {
        guard let format = revision.file.settings.exampleFormat else {
            throw InputError(
                file: revision.reference,
                "has no example_format, so it cannot be given few-shot examples; add one to its front matter, e.g. example_format: \"Review: {{text}}\\nSentiment: {{expected}}\""
            )
        }
        return try TemplateBody(format)
    }

    /// Each random draw gets its own seed, derived from the run's seed.
    static func drawSeed(seed: Int, draw: Int) -> UInt64 {
        UInt64(bitPattern: Int64(seed)) &* 6_364_136_223_846_793_005 &+ UInt64(draw) &* 1_442_695_040_888_963_407 &+ 1
    }
}
