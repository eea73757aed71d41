import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// What `pwb eval` is asked to score.
public struct EvalOptions: Sendable {
    public var template: String
    /// Variants by name, optionally `name@N`; nil means every variant's newest revision.
    public var variants: [String]?
    public var evalset: String?
    public var split: Split = .dev
    /// Configured model names; nil in the list means the default model.
    public var models: [String?] = [nil]
    public var concurrency: Int?
    public var repeats = 1
    public var useCache = true
    public var limit: Int?
    public var seed = 0
    public var strategy = Strategy.zeroShot

    public init(template: String) {
        self.template = template
    }
}

/// A run about to be made or resumed: the revision, the model, how its prompts are filled.
struct PlannedRun {
    var record: RunRecord
    var revision: ResolvedRevision
    var model: ConnectedModel
    /// The few-shot block shared by all cases (random selection), already rendered.
    var sharedExamples: String?
    var strategy: Strategy
}

extension Workspace {
    /// The revisions `options` names, newest unless `@N`.
    func revisions(for options: EvalOptions) throws -> [ResolvedRevision] {
        let template = try template(named: options.template)
        guard let names = options.variants, !names.isEmpty, names != ["all"] else {
            let all = try latestRevisions(of: template)
            guard !all.isEmpty else { throw UsageError("template \(template.name) has no variants") }
            return all
        }
        return try names.map { name in
            try resolve(RevisionReference(parsing: "\(template.name)/\(name)"))
        }
    }

    /// The eval set to score on: `--evalset`, else the one the variants' front matter names.
    func evalsetName(for options: EvalOptions, revisions: [ResolvedRevision]) throws -> String {
        if let name = options.evalset { return name }
        let named = Set(revisions.compactMap(\.file.settings.evalset))
        guard let only = named.first else {
            throw UsageError(
                "\(options.template) names no eval set in its front matter; choose one with --evalset NAME")
        }
        guard named.count == 1 else {
            throw UsageError(
                "the variants of \(options.template) name different eval sets (\(named.sorted().joined(separator: ", "))); choose one with --evalset NAME"
            )
        }
        return only
    }

    /// Every variable each revision uses must be given by every case, before anything is sent.
    func checkVariables(_ revisions: [ResolvedRevision], cases: [StoredCase], evalset: String) throws {
        for revision in revisions {
            for variable in revision.file.body.caseVariables {
                guard let lacking = cases.first(where: { $0.evalCase.vars[variable] == nil }) else { continue }
                throw InputError(
                    file: revision.reference, line: revision.file.body.line(of: variable),
                    "{{\(variable)}} is not defined by case \(lacking.evalCase.id) of eval set \(evalset); rename the variable or add it to the cases"
                )
            }
        }
    }

    /// The rendered few-shot block for a random draw, or nil for zero-shot.
    func sharedExamples(_ revision: ResolvedRevision, strategy: Strategy, train: [StoredCase], seed: Int) throws
        -> String?
    {
        guard strategy.shots > 0, strategy.selection == .random else { return nil }
        let format = try exampleFormat(revision)
        let chosen = FewShot.random(
            from: train.map(\.evalCase), k: strategy.shots, seed: Workspace.drawSeed(seed: seed, draw: strategy.draw))
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
