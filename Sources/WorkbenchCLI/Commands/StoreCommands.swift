import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb init` and `pwb import`.
@MainActor
enum StoreCommands {
    static var all: [Command] { [initCommand, importCommand] }

    static let initCommand = Command(
        "init", "create the store (.pwb/workbench.sqlite, or --db PATH) in this folder",
        details: "Safe to run again: an existing store is kept and migrated to this pwb's schema."
    ) { invocation in
        let session = invocation.session
        let existed = FileManager.default.fileExists(
            atPath: Workspace.storePath(root: session.directory, databasePath: session.databasePath))
        let workspace = try session.workspace()
        let version = try workspace.store.userVersion()
        let path = workspace.shown(workspace.storePath)
        if existed {
            invocation.output.line("pwb store \(path) is ready (schema \(version)).")
        } else {
            invocation.output.line("Created the pwb store \(path) (schema \(version)).")
            invocation.output.line("Next: pwb import   (reads templates/, evalsets/ and corpora/)")
        }
    }

    static let importCommand = Command(
        "import", "import templates, eval sets and corpora from files (default: templates/ evalsets/ corpora/)",
        arguments: "[PATH…]", max: Int.max, completing: .none, options: JSONOptions.self,
        details: """
            A .prompt file is a variant: templates/<template>/<variant>.prompt. A .jsonl or .csv file is an
            eval set named after the file, with optional settings in <name>.json beside it. A folder under
            corpora/ is a corpus. Importing is one transaction: on any error nothing is stored. Unchanged
            files add nothing; a changed prompt adds a revision; a changed eval set updates its cases by id.
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let report = try workspace.importFiles(invocation.positionals)
        if invocation.json {
            invocation.output.line(json(report).serialized(pretty: true))
            return
        }
        invocation.output.lines(lines(report))
    }

    static func lines(_ report: ImportReport) -> [String] {
        var table = Table([.init("", maxWidth: 1), .init("kind"), .init("name"), .init("what changed")])
        for entry in report.templates {
            let name = "\(entry.template)/\(entry.variant)"
            switch entry.outcome {
            case .added(let revision): table.add(["+", "template", name, "revision \(revision) (new)"])
            case .revised(let revision, let changes):
                table.add(["~", "template", name, "revision \(revision): \(changes)"])
            case .unchanged(let revision): table.add(["=", "template", name, "unchanged (revision \(revision))"])
            }
        }
        for entry in report.evalsets {
            let splits = Split.allCases.compactMap { split in
                entry.splitCounts[split].map { "\(split.rawValue) \($0)" }
            }.joined(separator: ", ")
            let total = entry.splitCounts.values.reduce(0, +)
            if entry.created {
                table.add(["+", "evalset", entry.name, "\(total) cases (\(splits))"])
            } else if entry.changes.isEmpty && !entry.settingsChanged {
                table.add(["=", "evalset", entry.name, "unchanged (\(total) cases)"])
            } else {
                var parts: [String] = []
                if !entry.changes.added.isEmpty { parts.append("\(entry.changes.added.count) added") }
                if !entry.changes.changed.isEmpty {
                    parts.append("\(entry.changes.changed.count) changed (\(sample(entry.changes.changed)))")
                }
                if !entry.changes.removed.isEmpty {
                    parts.append("\(entry.changes.removed.count) removed (\(sample(entry.changes.removed)))")
                }
                if entry.settingsChanged { parts.append("settings changed") }
                table.add([
                    "~", "evalset", entry.name, parts.joined(separator: ", ") + "; now \(total) cases (\(splits))",
                ])
            }
        }
        for entry in report.corpora {
            let what =
                entry.added == 0 && entry.removed == 0
                ? "unchanged (\(entry.sources) documents, \(entry.passages) passages)"
                : "\(entry.sources) documents, \(entry.passages) passages (\(entry.added) added, \(entry.removed) removed)"
            let mark = entry.created ? "+" : entry.added == 0 && entry.removed == 0 ? "=" : "~"
            table.add([mark, "corpus", entry.name, what])
        }
        var lines = Array(table.render().dropFirst(2))
        lines.append(report.isUnchanged ? "Nothing changed: everything was already imported." : summary(report))
        return lines
    }

    static func sample(_ ids: [String]) -> String {
        ids.count <= 3 ? ids.joined(separator: ", ") : ids.prefix(3).joined(separator: ", ") + ", …"
    }

    static func summary(_ report: ImportReport) -> String {
        var newRevisions = 0
        for entry in report.templates {
            if case .unchanged = entry.outcome { continue }
            newRevisions += 1
        }
        let cases = report.evalsets.map { $0.changes.added.count + $0.changes.changed.count }.reduce(0, +)
        var parts = ["\(newRevisions) new revision\(newRevisions == 1 ? "" : "s")", "\(cases) new or changed cases"]
        if !report.corpora.isEmpty {
            parts.append("\(report.corpora.map(\.added).reduce(0, +)) new passages")
        }
        return "Imported: " + parts.joined(separator: ", ") + "."
    }

    static func json(_ report: ImportReport) -> JSONValue {
        let templates: [JSONValue] = report.templates.map { entry in
            var object: [String: JSONValue] = [
                "template": .string(entry.template), "variant": .string(entry.variant), "file": .string(entry.file),
            ]
            switch entry.outcome {
            case .added(let revision):
                object["status"] = "added"
                object["revision"] = .number(Double(revision))
            case .revised(let revision, let changes):
                object["status"] = "revised"
                object["revision"] = .number(Double(revision))
                object["changes"] = .string(changes)
            case .unchanged(let revision):
                object["status"] = "unchanged"
                object["revision"] = .number(Double(revision))
            }
            return .object(object)
        }
        let evalsets: [JSONValue] = report.evalsets.map { entry in
            [
                "name": .string(entry.name), "file": .string(entry.file), "created": .bool(entry.created),
                "settings_changed": .bool(entry.settingsChanged),
                "added": .array(entry.changes.added.map { .string($0) }),
                "changed": .array(entry.changes.changed.map { .string($0) }),
                "removed": .array(entry.changes.removed.map { .string($0) }),
                "splits": .object(
                    Dictionary(
                        uniqueKeysWithValues: entry.splitCounts.map { ($0.key.rawValue, .number(Double($0.value))) })),
            ]
        }
        let corpora: [JSONValue] = report.corpora.map {
            [
                "name": .string($0.name), "documents": .number(Double($0.sources)),
                "passages": .number(Double($0.passages)), "added": .number(Double($0.added)),
                "removed": .number(Double($0.removed)),
            ]
        }
        return [
            "templates": .array(templates), "evalsets": .array(evalsets), "corpora": .array(corpora),
            "unchanged": .bool(report.isUnchanged),
        ]
    }
}
