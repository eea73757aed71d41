import Foundation
import WorkbenchCore
import WorkbenchStore

/// What one import did, file by file.
package struct ImportReport: Sendable {
    package enum TemplateOutcome: Sendable, Equatable {
        case added(revision: Int)
        case revised(revision: Int, changes: String)
        case unchanged(revision: Int)
    }

    package struct TemplateEntry: Sendable {
        package var template: String
        package var variant: String
        package var file: String
        package var outcome: TemplateOutcome
    }

    package struct EvalSetEntry: Sendable {
        package var name: String
        package var file: String
        package var created: Bool
        package var settingsChanged: Bool
        package var changes: CaseChanges
        package var splitCounts: [Split: Int]
    }

    package var templates: [TemplateEntry] = []
    package var evalsets: [EvalSetEntry] = []
    package var corpora: [CorpusImport] = []

    /// True when the import added or changed nothing.
    package var isUnchanged: Bool {
        templates.allSatisfy { if case .unchanged = $0.outcome { true } else { false } }
            && evalsets.allSatisfy { !$0.created && !$0.settingsChanged && $0.changes.isEmpty }
            && corpora.allSatisfy { $0.added == 0 && $0.removed == 0 }
    }
}

/// A parsed `.prompt` file waiting to be stored.
struct PendingTemplate {
    var template: String
    var variant: String
    var path: String
    var file: PromptFile
}

/// A parsed eval set waiting to be stored.
struct PendingEvalSet {
    var name: String
    var path: String
    var settingsPath: String?
    var settings: EvalSetSettings
    var cases: [EvalCase]
}

extension Workspace {
    /// The folders `pwb import` reads when given no paths.
    package static let defaultImportFolders = ["templates", "evalsets", "corpora"]

    /// Imports templates, eval sets and corpora from files and folders, all in one transaction:
    /// either every file is stored or, on the first error, nothing is.
    ///
    /// Unchanged files add nothing; a changed prompt adds a revision; a changed eval set adds,
    /// retires and replaces cases by id.
    package func importFiles(_ paths: [String]) throws -> ImportReport {
        var roots = paths.map { FileSystem.absolute($0, relativeTo: root) }
        if paths.isEmpty {
            roots = Workspace.defaultImportFolders.map { root + "/" + $0 }.filter(FileSystem.isDirectory)
            guard !roots.isEmpty else {
                throw Refusal(
                    "nothing to import: there is no templates/, evalsets/ or corpora/ folder here; name the files or folders to import"
                )
            }
            // Not named by the user: the folders themselves must not lead out of the workspace.
            for folder in roots { try checkInsideWorkspace(folder) }
        }
        let named = !paths.isEmpty
        var templates: [PendingTemplate] = []
        var evalsets: [PendingEvalSet] = []
        var corpora: [PendingCorpus] = []
        for path in roots {
            guard FileSystem.exists(path) else { throw InputError(file: shown(path), "does not exist") }
            if FileSystem.isDirectory(path) {
                if isCorpusFolder(path) {
                    corpora += try pendingCorpora(in: path, named: named)
                    continue
                }
                let files = try filesInsideWorkspace(under: path, named: named)
                try collect(files, explicit: false, templates: &templates, evalsets: &evalsets)
            } else {
                try collect([path], explicit: true, templates: &templates, evalsets: &evalsets)
            }
        }
        try checkDuplicates(templates: templates, evalsets: evalsets)
        try checkVariables(templates: templates, evalsets: evalsets)
        return try store.transaction {
            var report = ImportReport()
            for pending in evalsets { report.evalsets.append(try storeEvalSet(pending)) }
            for pending in templates { report.templates.append(try storeTemplate(pending)) }
            for pending in corpora { report.corpora.append(try storeCorpus(pending)) }
            return report
        }
    }

    private func isCorpusFolder(_ path: String) -> Bool {
        (path as NSString).lastPathComponent == "corpora"
            || ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent == "corpora"
    }

    private func collect(
        _ files: [String], explicit: Bool, templates: inout [PendingTemplate], evalsets: inout [PendingEvalSet]
    ) throws {
        let all = Set(files)
        for path in files {
            let name = (path as NSString).lastPathComponent
            let stem = (name as NSString).deletingPathExtension
            switch (name as NSString).pathExtension.lowercased() {
            case "prompt":
                templates.append(try parseTemplate(at: path))
            case "jsonl", "csv":
                evalsets.append(try parseEvalSet(at: path))
            case "json":
                let folder = (path as NSString).deletingLastPathComponent
                let hasCases =
                    all.contains(folder + "/" + stem + ".jsonl") || all.contains(folder + "/" + stem + ".csv")
                    || FileSystem.exists(folder + "/" + stem + ".jsonl")
                    || FileSystem.exists(folder + "/" + stem + ".csv")
                if !hasCases {
                    throw InputError(
                        file: shown(path),
                        "is eval-set settings without cases; add \(stem).jsonl or \(stem).csv beside it")
                }
                if explicit && !all.contains(folder + "/" + stem + ".jsonl")
                    && !all.contains(folder + "/" + stem + ".csv")
                {
                    // Importing the settings alone re-imports its eval set with them.
                    let data = FileSystem.exists(folder + "/" + stem + ".jsonl") ? stem + ".jsonl" : stem + ".csv"
                    evalsets.append(try parseEvalSet(at: folder + "/" + data))
                }
            default:
                if explicit {
                    throw InputError(
                        file: shown(path), "is not something pwb imports; use .prompt, .jsonl, .csv or a folder of them"
                    )
                }
            }
        }
    }

    func parseTemplate(at path: String) throws -> PendingTemplate {
        let shownPath = shown(path)
        let variant = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let template = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        try Names.validate(template, kind: "template name (the folder of \(shownPath))", file: shownPath)
        try Names.validate(variant, kind: "variant name", file: shownPath)
        let text = try FileSystem.readText(
            path, limit: SourceFile.promptLimit, kind: "a prompt file", shownAs: shownPath)
        do {
            return PendingTemplate(
                template: template, variant: variant, path: path, file: try PromptFile(parsing: text))
        } catch let error as InputError {
            throw error.located(in: shownPath)
        }
    }

    func parseEvalSet(at path: String) throws -> PendingEvalSet {
        let shownPath = shown(path)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        try Names.validate(name, kind: "eval set name", file: shownPath)
        let text = try FileSystem.readText(
            path, limit: SourceFile.evalSetLimit, kind: "an eval set", shownAs: shownPath)
        let settingsPath = (path as NSString).deletingPathExtension + ".json"
        var settings = EvalSetSettings()
        var foundSettings: String?
        if FileSystem.exists(settingsPath) {
            // Found beside the cases, not named: it may lead no further than they lie.
            try checkInsideWorkspace(
                settingsPath, named: FileSystem.resolved(path).map { ($0 as NSString).deletingLastPathComponent })
            let settingsText = try FileSystem.readText(
                settingsPath, limit: SourceFile.settingsLimit, kind: "eval-set settings", shownAs: shown(settingsPath))
            do {
                settings = try EvalSetSettings(parsing: settingsText)
            } catch let error as InputError {
                throw error.located(in: shown(settingsPath))
            }
            foundSettings = settingsPath
        }
        do {
            let cases =
                path.lowercased().hasSuffix(".csv")
                ? try EvalSetParser.parseCSV(text) : try EvalSetParser.parseJSONL(text)
            if let input = settings.input, let missing = cases.first(where: { $0.vars[input] == nil }) {
                throw InputError(
                    file: shown(foundSettings ?? path), field: "input",
                    "names the variable \"\(input)\", which case \(missing.id) (line \(missing.line) of \(shownPath)) does not have"
                )
            }
            return PendingEvalSet(name: name, path: path, settingsPath: foundSettings, settings: settings, cases: cases)
        } catch let error as InputError {
            throw error.located(in: shownPath)
        }
    }

    private func checkDuplicates(templates: [PendingTemplate], evalsets: [PendingEvalSet]) throws {
        var seenVariants: [String: String] = [:]
        for pending in templates {
            let key = pending.template + "/" + pending.variant
            if let first = seenVariants[key], first != pending.path {
                throw InputError(
                    file: shown(pending.path),
                    "is the variant \(key) again (also in \(shown(first))); import one of them")
            }
            seenVariants[key] = pending.path
        }
        var seenSets: [String: String] = [:]
        for pending in evalsets {
            if let first = seenSets[pending.name], first != pending.path {
                throw InputError(
                    file: shown(pending.path),
                    "is the eval set \(pending.name) again (also in \(shown(first))); keep one file per eval set name")
            }
            seenSets[pending.name] = pending.path
        }
    }

    /// Every variable a template uses must be defined by every case of its eval set, when that
    /// eval set is known (being imported now, or already stored).
    private func checkVariables(templates: [PendingTemplate], evalsets: [PendingEvalSet]) throws {
        var casesBySet: [String: [EvalCase]] = [:]
        for pending in evalsets { casesBySet[pending.name] = pending.cases }
        for pending in templates {
            guard let setName = pending.file.settings.evalset else { continue }
            let cases: [EvalCase]
            if let found = casesBySet[setName] {
                cases = found
            } else if let stored = try store.evalset(named: setName) {
                cases = try store.cases(evalsetID: stored.id).map(\.evalCase)
                casesBySet[setName] = cases
            } else {
                continue
            }
            try Workspace.checkVariables(pending.file.body, cases: cases, evalset: setName, file: shown(pending.path))
        }
    }

    private func storeTemplate(_ pending: PendingTemplate) throws -> ImportReport.TemplateEntry {
        let origin = shown(pending.path)
        let (revision, previous) = try library.addRevisionIfChanged(
            template: pending.template, variant: pending.variant, file: pending.file, origin: origin,
            firstNote: "imported")
        let outcome: ImportReport.TemplateOutcome
        if previous == nil {
            outcome = .added(revision: revision.revision.number)
        } else if previous?.id == revision.revision.id {
            outcome = .unchanged(revision: revision.revision.number)
        } else {
            outcome = .revised(revision: revision.revision.number, changes: revision.revision.note)
        }
        return ImportReport.TemplateEntry(
            template: pending.template, variant: pending.variant, file: origin, outcome: outcome)
    }

    private func storeEvalSet(_ pending: PendingEvalSet) throws -> ImportReport.EvalSetEntry {
        let previous = try store.evalset(named: pending.name)
        let existed = previous != nil
        let (record, settingsChanged) = try store.upsertEvalset(
            name: pending.name, settingsJSON: pending.settings.json.serialized(), source: shown(pending.path))
        let changes = try store.syncCases(
            evalsetID: record.id, cases: pending.cases, inputVariable: pending.settings.input)
        if let previous, try EvalSetSettings(parsing: previous.settingsJSON).input != pending.settings.input {
            try store.reindexCases(evalsetID: record.id, inputVariable: pending.settings.input)
        }
        return ImportReport.EvalSetEntry(
            name: pending.name, file: shown(pending.path), created: !existed,
            settingsChanged: existed && settingsChanged,
            changes: changes, splitCounts: try store.splitCounts(evalsetID: record.id))
    }
}
