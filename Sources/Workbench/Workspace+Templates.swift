import Foundation
import WorkbenchCore
import WorkbenchStore

/// Templates as files the user reads: revisions compared, and written out as `.prompt` files.
extension Workspace {
    /// The unified diff between two revisions, with a header naming both.
    package func diff(_ old: ResolvedRevision, _ new: ResolvedRevision) -> [String] {
        let diff = LineDiff(old: old.file.canonicalText, new: new.file.canonicalText)
        return ["--- \(old.reference)", "+++ \(new.reference)"] + diff.unified()
    }

    /// Writes the newest revision of each variant (or the one named) as `.prompt` files under
    /// `folder`, as `folder/<template>/<variant>.prompt`. Returns the paths written.
    package func exportTemplate(_ reference: RevisionReference, to folder: String) throws -> [String] {
        let template = try library.template(named: reference.template)
        let revisions =
            reference.variant == nil ? try library.latestRevisions(of: template) : [try library.resolve(reference)]
        var written: [String] = []
        for resolved in revisions {
            let path = FileSystem.absolute(
                folder + "/\(template.name)/\(resolved.variant.name).prompt", relativeTo: root)
            try writeUserFile(resolved.file.canonicalText, to: path)
            written.append(shown(path))
        }
        return written
    }
}
