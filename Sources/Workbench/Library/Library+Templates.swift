import Foundation
import WorkbenchCore
import WorkbenchStore

/// A revision resolved from a reference, with its parsed file.
package struct ResolvedRevision: Sendable {
    package var template: TemplateRecord
    package var variant: VariantRecord
    package var revision: RevisionRecord
    package var file: PromptFile

    /// `template/variant@N`
    package var reference: String { "\(template.name)/\(variant.name)@\(revision.number)" }
}

extension Library {
    /// The template named `name`, or a usage error that suggests the nearest one.
    package func template(named name: String) throws -> TemplateRecord {
        if let found = try store.template(named: name) { return found }
        let names = try store.templates().map(\.name)
        let hint: Message = Suggest.nearest(to: name, in: names).map { "; did you mean \($0)?" } ?? ""
        let known: Message = names.isEmpty ? " (none is imported yet: run \(command: "import"))" : hint
        throw Refusal("there is no template \"\(name)\"\(known)")
    }

    package func variant(of template: TemplateRecord, named name: String) throws -> VariantRecord {
        if let found = try store.variant(templateID: template.id, named: name) { return found }
        let names = try store.variants(templateID: template.id).map(\.name)
        let hint = Suggest.nearest(to: name, in: names).map { "did you mean \($0)? " } ?? ""
        throw Refusal(
            "template \(template.name) has no variant \"\(name)\"; \(hint)its variants: \(names.joined(separator: ", "))"
        )
    }

    /// The revision a reference names: `@N`, or the newest. A bare template name is allowed only
    /// when the template has one variant.
    package func resolve(_ reference: RevisionReference) throws -> ResolvedRevision {
        let template = try template(named: reference.template)
        let variant: VariantRecord
        if let name = reference.variant {
            variant = try self.variant(of: template, named: name)
        } else {
            let variants = try store.variants(templateID: template.id)
            guard variants.count == 1 else {
                throw Refusal(
                    "template \(template.name) has \(variants.count) variants; name one, e.g. \(template.name)/\(variants.first?.name ?? "VARIANT")"
                )
            }
            variant = variants[0]
        }
        let revision: RevisionRecord
        if let number = reference.number {
            guard let found = try store.revision(variantID: variant.id, number: number) else {
                let newest = try store.latestRevision(variantID: variant.id)?.number ?? 0
                throw Refusal(
                    "\(template.name)/\(variant.name) has no revision \(number); it has revisions 1 to \(newest)")
            }
            revision = found
        } else {
            guard let latest = try store.latestRevision(variantID: variant.id) else {
                throw Refusal("\(template.name)/\(variant.name) has no revisions")
            }
            revision = latest
        }
        return ResolvedRevision(
            template: template, variant: variant, revision: revision, file: try PromptFile(parsing: revision.source))
    }

    /// The revision with this row id, resolved.
    package func resolve(revisionID: Int) throws -> ResolvedRevision {
        guard let revision = try store.revision(id: revisionID),
            let variant = try store.variant(id: revision.variantID),
            let template = try store.template(id: variant.templateID)
        else { throw Refusal("revision \(revisionID) is gone") }
        return ResolvedRevision(
            template: template, variant: variant, revision: revision, file: try PromptFile(parsing: revision.source))
    }

    /// The newest revision of every variant of a template, in name order.
    package func latestRevisions(of template: TemplateRecord) throws -> [ResolvedRevision] {
        try store.variants(templateID: template.id).map {
            try resolve(RevisionReference(template: template.name, variant: $0.name))
        }
    }

    /// Saves `file` as the next revision of a variant, creating the variant when it is new.
    /// Returns nil when the file equals the newest revision: nothing to save.
    package func saveRevision(template: String, variant: String, file: PromptFile, origin: String) throws
        -> ResolvedRevision?
    {
        try Names.validate(template, kind: "template name")
        try Names.validate(variant, kind: "variant name")
        return try store.transaction {
            let (revision, previous) = try addRevisionIfChanged(
                template: template, variant: variant, file: file, origin: origin, firstNote: "created")
            return previous?.id == revision.revision.id ? nil : revision
        }
    }

    /// The newest revision after adding `file` unless it equals the newest already, with the
    /// revision that was newest before (nil for a new variant). The note of a new revision says
    /// what changed. Runs inside the caller's transaction.
    func addRevisionIfChanged(template: String, variant: String, file: PromptFile, origin: String, firstNote: String)
        throws -> (revision: ResolvedRevision, previous: RevisionRecord?)
    {
        let templateRecord = try store.ensureTemplate(named: template)
        let variantRecord = try store.ensureVariant(templateID: templateRecord.id, named: variant)
        let latest = try store.latestRevision(variantID: variantRecord.id)
        if let latest, latest.hash == file.contentHash {
            return (
                ResolvedRevision(template: templateRecord, variant: variantRecord, revision: latest, file: file), latest
            )
        }
        let note = try latest.map { file.changes(from: try PromptFile(parsing: $0.source)) } ?? firstNote
        let revision = try store.addRevision(
            variantID: variantRecord.id, source: file.canonicalText, hash: file.contentHash, origin: origin, note: note)
        return (
            ResolvedRevision(template: templateRecord, variant: variantRecord, revision: revision, file: file), latest
        )
    }

}

/// A revision's body uses variables that were not given.
package struct MissingVariables: Error, Sendable, CustomStringConvertible {
    /// `sentiment/question@2`.
    package var reference: String
    package var names: [String]

    package var description: String {
        "\(reference) needs \(names.map { "{{\($0)}}" }.joined(separator: ", "))"
    }
}

extension Library {
    /// The variables to render `resolved` with once: those of the case `caseID` of `evalsetName`
    /// (default: the one the revision names) when given, overridden by `values`. Every variable
    /// the body uses must have a value.
    package func variables(
        for resolved: ResolvedRevision, caseID: String?, evalset evalsetName: String?, values: [String: String]
    ) throws -> [String: String] {
        var vars: [String: String] = [:]
        if let caseID {
            guard let setName = evalsetName ?? resolved.file.settings.evalset else {
                throw Refusal("\(resolved.reference) names no eval set; say which with \(setting: "evalset") NAME")
            }
            let evalset = try evalset(named: setName)
            guard let stored = try store.activeCase(evalsetID: evalset.record.id, key: caseID) else {
                throw Refusal("eval set \(setName) has no case \"\(caseID)\"")
            }
            vars = stored.evalCase.textVars
        }
        vars.merge(values) { _, given in given }
        let missing = resolved.file.body.caseVariables.filter { vars[$0] == nil }
        if !missing.isEmpty { throw MissingVariables(reference: resolved.reference, names: missing) }
        return vars
    }
}
