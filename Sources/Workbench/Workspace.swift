import Foundation
import ModelRuntime
import WorkbenchCore
import WorkbenchStore

/// A working directory and its store: where the user's files, `.pwb/` and the SQLite file live.
/// The use cases of the workbench are methods on it, one file per concern; what they share is its
/// `library` (what the store holds of the user's files) and its `runtime` (the models it reaches).
package final class Workspace {
    /// The working directory, absolute.
    package let root: String
    /// `.pwb/` under the working directory: configuration, runtime log and pid, REPL history.
    package let stateDirectory: String
    package let storePath: String
    package let store: Store
    /// The templates, eval sets and corpora imported into the store.
    package let library: Library
    /// The models it reaches: configuration, managed server, adapters.
    package let runtime: Runtime

    /// Opens the workspace at `root`, creating `.pwb/` and the store when needed.
    /// - Parameter databasePath: another store file (`--db`, `PWB_DB`); relative to `root`.
    package init(root: String, databasePath: String? = nil) throws {
        self.root = (root as NSString).standardizingPath
        stateDirectory = self.root + "/.pwb"
        storePath = Workspace.storePath(root: self.root, databasePath: databasePath)
        let folder = (storePath as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw InputError(file: folder, "cannot be created: \(error.localizedDescription)")
        }
        store = try Store(path: storePath)
        library = Library(store: store)
        runtime = Runtime(stateDirectory: stateDirectory, root: self.root)
    }

    /// The store file of the workspace at `root` (absolute): `databasePath` against `root`, else
    /// `.pwb/workbench.sqlite`.
    package static func storePath(root: String, databasePath: String?) -> String {
        let root = (root as NSString).standardizingPath
        return databasePath.map { FileSystem.absolute($0, relativeTo: root) } ?? root + "/.pwb/workbench.sqlite"
    }

    /// Writes a file the user asked for (an export), relative to the working directory.
    package func writeUserFile(_ text: String, to path: String) throws {
        do {
            try FileSystem.write(text, to: FileSystem.absolute(path, relativeTo: root))
        } catch {
            throw InputError(file: path, "cannot be written: \(error.localizedDescription)")
        }
    }

    /// `path` made absolute against the working directory.
    package func absolute(_ path: String) -> String { FileSystem.absolute(path, relativeTo: root) }

    /// `path` as it should appear in messages: relative to the working directory when inside it.
    package func shown(_ path: String) -> String { FileSystem.relative(path, to: root) }
}
