import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// What `pwb eval` is asked to score.
package struct EvalOptions: Sendable {
    package var template: String
    /// Variants by name, optionally `name@N`; nil means every variant's newest revision.
    package var variants: [String]?
    package var evalset: String?
    package var split: Split = .dev
    /// The models to score with, each as `--model` chose it.
    package var models: [ModelChoice] = [.automatic]
    package var concurrency: Int?
    package var repeats = 1
    package var useCache = true
    package var limit: Int?
    package var seed = 0
    package var strategy = Strategy.zeroShot
    /// A stored LoRA adapter the managed runtime applies to every request (`pwb eval --adapter`).
    package var adapter: String?
    /// How the answers are read: generated (the default), the label from one token's
    /// log-probabilities, or generation constrained to the labels.
    package var reader = Reader.generate

    package init(template: String) {
        self.template = template
    }
}

/// A run about to be made or resumed: the revision, the model, how its prompts are filled.
struct PlannedRun {
    var record: RunRecord
    var revision: ResolvedRevision
    var model: ConnectedModel

    var strategy: Strategy { record.strategy }

    /// The few-shot block shared by all cases (random selection), rendered when the run was planned.
    var sharedExamples: String? { record.params.sharedExamples }

    /// How the run reads its answers.
    var reader: Reader { record.params.reader }
}

extension Workspace {
    /// The revisions `options` names, newest unless `@N`.
    func revisions(for options: EvalOptions) throws -> [ResolvedRevision] {
        let template = try library.template(named: options.template)
        guard let names = options.variants, !names.isEmpty, names != ["all"] else {
            let all = try library.latestRevisions(of: template)
            guard !all.isEmpty else { throw Refusal("template \(template.name) has no variants") }
            return all
        }
        return try names.map { name in
            try library.resolve(RevisionReference(parsing: "\(template.name)/\(name)"))
        }
    }

    /// The eval set to score on: `--evalset`, else the one the variants' front matter names.
    func evalsetName(for options: EvalOptions, revisions: [ResolvedRevision]) throws -> String {
        if let name = options.evalset { return name }
        let named = Set(revisions.compactMap(\.file.settings.evalset))
        guard let only = named.first else {
            throw Refusal(
                "\(options.template) names no eval set in its front matter; choose one with \(setting: "evalset") NAME")
        }
        guard named.count == 1 else {
            throw Refusal(
                "the variants of \(options.template) name different eval sets (\(named.sorted().joined(separator: ", "))); choose one with \(setting: "evalset") NAME"
            )
        }
        return only
    }

    /// The cases of `plan` in its order, read a part at a time: an evaluation of any size holds
    /// one part of its cases, not all of them.
    /// - Throws: `CancellationError` when the task is cancelled or `stop` is requested between parts.
    func forEachCasePart(_ plan: [Int], stop: StopRequest?, _ body: ([StoredCase]) throws -> Void) throws {
        for start in stride(from: 0, to: plan.count, by: EvalExecution.partSize) {
            if Task.isCancelled || stop?.isRequested == true { throw CancellationError() }
            let rows = plan[start..<min(start + EvalExecution.partSize, plan.count)]
            let found = try store.cases(rowIDs: Array(rows))
            try body(rows.compactMap { found[$0] })
        }
    }

    /// Every variable each revision uses (in its body, and in its example format when it will be
    /// shown examples) must be defined by every case, before anything is sent.
    /// - Parameter part: the cases are a part of the split, not all of it (`forEachCasePart`).
    func checkVariables(
        _ revisions: [ResolvedRevision], cases: [StoredCase], evalset: String, examples: Bool = false,
        part: Bool = false
    ) throws {
        for revision in revisions {
            try Workspace.checkVariables(
                revision.file.body, cases: cases.map(\.evalCase), evalset: evalset, file: revision.reference,
                part: part)
            if examples, let format = revision.file.settings.exampleFormat {
                var withExpected = cases.map(\.evalCase)
                for index in withExpected.indices {
                    withExpected[index].vars["expected"] = withExpected[index].expected
                }
                try Workspace.checkVariables(
                    try TemplateBody(format), cases: withExpected, evalset: evalset,
                    file: revision.reference + " example_format", part: part)
            }
        }
    }

    /// The first variable of `body` that some case lacks, as an error naming `file` and its line.
    static func checkVariables(
        _ body: TemplateBody, cases: [EvalCase], evalset: String, file: String, part: Bool = false
    )
        throws
    {
        for variable in body.caseVariables {
            guard let lacking = cases.first(where: { $0.vars[variable] == nil }) else { continue }
            let defined = Set(cases.flatMap(\.vars.keys)).sorted().joined(separator: ", ")
            let which =
                !cases.allSatisfy({ $0.vars[variable] == nil })
                ? "case \(lacking.id) of eval set \(evalset) does not define it"
                : part
                    ? "cases \(lacking.id) to \(cases[cases.count - 1].id) of eval set \(evalset) do not define it (they have: \(defined))"
                    : "no case of eval set \(evalset) defines it (its cases have: \(defined))"
            throw InputError(
                file: file, line: body.line(of: variable),
                "{{\(variable)}}: \(which); rename the variable or add it to the cases")
        }
    }
}
