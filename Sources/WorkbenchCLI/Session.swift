import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// The state one `pwb` process keeps between commands: where it works, the store (opened on
/// first use, so `--help` creates nothing), and in the REPL the current template and variant.
///
/// Main-actor isolated: commands run one at a time, and the store's connection is used from
/// this actor only; concurrent work (model calls) happens in child tasks that never touch it.
@MainActor
final class Session {
    let output: Output
    let environment: [String: String]
    let directory: String
    /// The store file chosen with `--db` or `PWB_DB`; choosing another closes the open one.
    var databasePath: String? {
        didSet { if databasePath != oldValue { openWorkspace = nil } }
    }
    private var openWorkspace: Workspace?

    /// The REPL's current template and variant (`use sentiment/question`).
    var currentTemplate: String?
    var currentVariant: String?

    init(directory: String, environment: [String: String], output: Output) {
        self.directory = directory
        self.environment = environment
        self.output = output
        self.databasePath = environment["PWB_DB"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The workspace, opened (and the store created or migrated) on first use.
    func workspace() throws -> Workspace {
        if let openWorkspace { return openWorkspace }
        let workspace = try Workspace(root: directory, databasePath: databasePath)
        openWorkspace = workspace
        return workspace
    }
}
