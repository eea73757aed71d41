import Foundation
import WorkbenchCore
import WorkbenchStore

/// Runs as they stand, and the names a line being typed may complete to. (Templates, eval sets and
/// corpora are listed from the store as it holds them.)
extension Workspace {
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

        package func adapters() -> [String] { ((try? workspace.store.adapters().map(\.name)) ?? []).sorted() }

        /// `@1`…`@N` for the variant's revisions.
        package func revisions(of template: String, _ variant: String) -> [String] {
            guard let resolved = try? workspace.library.resolve(RevisionReference(template: template, variant: variant))
            else { return [] }
            return (1...resolved.revision.number).map { "@\($0)" }
        }

        /// The variables a case fills in the variant's newest revision.
        package func caseVariables(of template: String, _ variant: String) -> [String] {
            guard let resolved = try? workspace.library.resolve(RevisionReference(template: template, variant: variant))
            else { return [] }
            return resolved.file.body.caseVariables
        }
    }
}
