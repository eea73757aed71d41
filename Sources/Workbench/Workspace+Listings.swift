import Foundation
import WorkbenchCore
import WorkbenchStore

/// What the command layer lists and shows: templates, revisions, eval sets' cases, corpora, runs.
extension Workspace {
    package func templateSummaries() throws -> [TemplateSummary] { try store.templateSummaries() }

    /// The variants of `template`, by name order of creation.
    package func variants(of template: TemplateRecord) throws -> [VariantRecord] {
        try store.variants(templateID: template.id)
    }

    /// Whether `template` has a variant called `name`.
    package func hasVariant(_ name: String, in template: TemplateRecord) throws -> Bool {
        try store.variant(templateID: template.id, named: name) != nil
    }

    /// Every revision of a variant, oldest first.
    package func revisions(of variant: VariantRecord) throws -> [RevisionRecord] {
        try store.revisions(variantID: variant.id)
    }

    package func evalsetRecords() throws -> [EvalSetRecord] { try store.evalsets() }

    package func splitCounts(_ evalset: LoadedEvalSet) throws -> [Split: Int] {
        try store.splitCounts(evalsetID: evalset.record.id)
    }

    /// The eval set's active cases, of one split or all.
    package func cases(_ evalset: LoadedEvalSet, split: Split? = nil) throws -> [StoredCase] {
        try store.cases(evalsetID: evalset.record.id, split: split)
    }

    /// The active case with this id, if there is one.
    package func activeCase(_ evalset: LoadedEvalSet, id: String) throws -> StoredCase? {
        try store.activeCase(evalsetID: evalset.record.id, key: id)
    }

    package func corpora() throws -> [(corpus: CorpusRecord, sources: Int, passages: Int)] { try store.corpora() }

    /// Stored runs, newest first, of one template or all.
    package func runListings(limit: Int, template: TemplateRecord? = nil) throws -> [RunListing] {
        try store.runListings(limit: limit, templateID: template?.id).map { listing in
            var listing = listing
            listing.run = current(listing.run)
            return listing
        }
    }

    /// `run` as it stands: one stored as running that no process holds (it was killed, or
    /// crashed, and could not mark itself) is interrupted, and `--resume` finishes it.
    func current(_ run: RunRecord) -> RunRecord {
        guard run.status == .running, !RunLease.isHeld(storePath: storePath, batch: run.batch) else { return run }
        var run = run
        run.status = .interrupted
        return run
    }

    /// The store's schema version.
    package func schemaVersion() throws -> Int { try store.userVersion() }

    /// Names for completing a line: each list is empty when the store cannot be read.
    package var knownNames: KnownNames { KnownNames(workspace: self) }

    package struct KnownNames {
        let workspace: Workspace

        package func templates() -> [String] {
            ((try? workspace.store.templates().map(\.name)) ?? []).sorted()
        }

        /// `template` and `template/variant` for every stored variant.
        package func references() -> [String] {
            guard let summaries = try? workspace.store.templateSummaries() else { return [] }
            return summaries.flatMap { summary in
                [summary.template.name] + summary.variants.map { "\(summary.template.name)/\($0.name)" }
            }
        }

        package func variants(of template: String) -> [String] {
            guard let record = try? workspace.store.template(named: template) else { return [] }
            return (try? workspace.store.variants(templateID: record.id).map(\.name)) ?? []
        }

        package func evalsets() -> [String] { ((try? workspace.store.evalsets().map(\.name)) ?? []).sorted() }

        package func corpora() -> [String] { ((try? workspace.store.corpora().map(\.corpus.name)) ?? []).sorted() }

        /// The newest runs' ids.
        package func runs() -> [String] {
            ((try? workspace.store.runListings(limit: 50)) ?? []).map { String($0.run.id) }
        }

        package func adapters() -> [String] { ((try? workspace.adapters().map(\.name)) ?? []).sorted() }

        /// `@1`…`@N` for the variant's revisions.
        package func revisions(of template: String, _ variant: String) -> [String] {
            guard let resolved = try? workspace.resolve(RevisionReference(template: template, variant: variant))
            else { return [] }
            return (1...resolved.revision.number).map { "@\($0)" }
        }

        /// The variables a case fills in the variant's newest revision.
        package func caseVariables(of template: String, _ variant: String) -> [String] {
            guard let resolved = try? workspace.resolve(RevisionReference(template: template, variant: variant))
            else { return [] }
            return resolved.file.body.caseVariables
        }
    }
}
