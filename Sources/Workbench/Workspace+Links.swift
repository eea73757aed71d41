import Foundation
import WorkbenchCore

/// Files found in the workspace stay in it. A cloned repository could hold a link from
/// `templates/`, `evalsets/` or `corpora/` to any file of this machine (a key, a private note):
/// imported, it would be shown by `pwb template show`, searched, sent to the model in prompts
/// and quoted in errors. So a file pwb finds by walking a folder is refused when a link takes it
/// out of the workspace; a file or folder the user names is theirs to choose.
extension Workspace {
    /// Refuses `path`, a file or folder pwb found rather than was given, when links resolve it
    /// outside the workspace and outside `named`, a folder the user named (whose own files
    /// may then lie anywhere inside it).
    func checkInsideWorkspace(_ path: String, named: String? = nil) throws {
        guard let target = FileSystem.resolved(path) else { return }
        let allowed = ([root] + (named.map { [$0] } ?? [])).compactMap(FileSystem.resolved)
        guard !allowed.contains(where: { FileSystem.isInside(target, $0) }) else { return }
        throw InputError(
            file: shown(path),
            "leads to \(target), outside the workspace; pwb does not follow a link out of the workspace to a file it finds (a cloned repository could pull this machine's files into prompts), so copy the file in, or name it to import it anyway (\(command: "import \(shown(path))"))"
        )
    }

    /// The files under `folder` whose links stay in the workspace (or in `folder`, when the user
    /// named it); throws naming the first link that does not.
    func filesInsideWorkspace(under folder: String, named: Bool) throws -> [String] {
        try FileSystem.files(under: folder) { try checkInsideWorkspace($0, named: named ? folder : nil) }
    }
}
