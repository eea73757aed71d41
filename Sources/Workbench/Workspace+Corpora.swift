import Foundation
import WorkbenchCore
import WorkbenchStore

/// What adding documents to one corpus did.
package struct CorpusImport: Sendable {
    package var name: String
    package var created: Bool
    package var sources: Int
    package var passages: Int
    package var added: Int
    package var removed: Int
}

/// Documents of one corpus, read and cut into passages, waiting to be stored.
struct PendingCorpus {
    var name: String
    var passagesBySource: [String: [Passage]]
    /// A whole corpus folder replaces the corpus; single files add to it.
    var replaceAll: Bool
}

extension Workspace {
    static let documentExtensions: Set<String> = ["md", "markdown", "txt", "text", "jsonl"]

    /// Indexes documents into the corpus `name`: text and markdown files are cut into passages;
    /// a JSONL file holds one document per line (`{"id": …, "title": …, "text": …}`).
    /// Folders are read recursively. Re-adding unchanged files changes nothing.
    package func addToCorpus(_ name: String, paths: [String]) throws -> CorpusImport {
        try Names.validate(name, kind: "corpus name")
        guard !paths.isEmpty else { throw Refusal("name the files or folders to add to corpus \(name)") }
        var passages: [String: [Passage]] = [:]
        for path in paths.map({ FileSystem.absolute($0, relativeTo: root) }) {
            guard FileSystem.exists(path) else { throw InputError(file: shown(path), "does not exist") }
            let files = FileSystem.isDirectory(path) ? try documentFiles(under: path, named: true) : [path]
            if files.isEmpty {
                throw InputError(file: shown(path), "has no .md, .txt or .jsonl documents to index")
            }
            for file in files { passages.merge(try readDocuments(file)) { _, new in new } }
        }
        guard passages.values.contains(where: { !$0.isEmpty }) else {
            throw InputError(file: paths.joined(separator: ", "), "has no text to index; the corpus would be empty")
        }
        return try store.transaction {
            try storeCorpus(PendingCorpus(name: name, passagesBySource: passages, replaceAll: false))
        }
    }

    /// The corpora in a `corpora/` folder (each subfolder or JSONL file is one), or the one
    /// corpus a `corpora/<name>/` folder holds. `named`: the user named `folder` to import.
    func pendingCorpora(in folder: String, named: Bool) throws -> [PendingCorpus] {
        let folderName = (folder as NSString).lastPathComponent
        if folderName != "corpora" {
            return [
                try pendingCorpus(
                    named: folderName, files: documentFiles(under: folder, named: named), folder: folder)
            ]
        }
        var found: [PendingCorpus] = []
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.sorted() ?? []
        for entry in entries where !entry.hasPrefix(".") {
            let path = folder + "/" + entry
            if FileSystem.isLink(path) { try checkInsideWorkspace(path, named: named ? folder : nil) }
            if FileSystem.isDirectory(path) {
                found.append(
                    try pendingCorpus(named: entry, files: documentFiles(under: path, named: named), folder: path))
            } else if entry.hasSuffix(".jsonl") {
                found.append(
                    try pendingCorpus(named: (entry as NSString).deletingPathExtension, files: [path], folder: path))
            }
        }
        return found
    }

    private func pendingCorpus(named name: String, files: [String], folder: String) throws -> PendingCorpus {
        try Names.validate(name, kind: "corpus name", file: shown(folder))
        guard !files.isEmpty else {
            throw InputError(file: shown(folder), "has no .md, .txt or .jsonl documents; the corpus would be empty")
        }
        var passages: [String: [Passage]] = [:]
        for file in files { passages.merge(try readDocuments(file)) { _, new in new } }
        return PendingCorpus(name: name, passagesBySource: passages, replaceAll: true)
    }

    private func documentFiles(under folder: String, named: Bool) throws -> [String] {
        try filesInsideWorkspace(under: folder, named: named).filter {
            Workspace.documentExtensions.contains(($0 as NSString).pathExtension.lowercased())
        }
    }

    /// Passages by source: a file's path, or `path#id` for each JSONL document.
    private func readDocuments(_ path: String) throws -> [String: [Passage]] {
        let shownPath = shown(path)
        let text = try FileSystem.readText(
            path, limit: SourceFile.documentLimit, kind: "a document", shownAs: shownPath)
        let fallbackTitle = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        guard path.lowercased().hasSuffix(".jsonl") else {
            return [shownPath: Chunker.passages(of: text, fallbackTitle: fallbackTitle)]
        }
        var result: [String: [Passage]] = [:]
        for (index, line) in text.lines().enumerated() {
            let lineNumber = index + 1
            guard !line.trimmingWhitespace().isEmpty else { continue }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: String(line))
            } catch {
                throw InputError(file: shownPath, line: lineNumber, "is not JSON: \(error)")
            }
            guard let body = value["text"]?.stringValue, !body.trimmingWhitespace().isEmpty else {
                throw InputError(
                    file: shownPath, line: lineNumber, field: "text", "is missing; a document needs its text")
            }
            let id = value["id"].map(\.text) ?? String(lineNumber)
            let title = value["title"]?.stringValue ?? fallbackTitle
            result["\(shownPath)#\(id)"] = Chunker.passages(of: body, fallbackTitle: title).map {
                Passage(title: title, body: $0.body)
            }
        }
        return result
    }

    func storeCorpus(_ pending: PendingCorpus) throws -> CorpusImport {
        let created = try store.corpus(named: pending.name) == nil
        let corpus = try store.ensureCorpus(named: pending.name)
        let (added, removed) = try store.syncDocuments(
            corpusID: corpus.id, passagesBySource: pending.passagesBySource, replaceAll: pending.replaceAll)
        let summary = try store.corpora().first { $0.corpus.id == corpus.id }
        return CorpusImport(
            name: pending.name, created: created, sources: summary?.sources ?? 0, passages: summary?.passages ?? 0,
            added: added,
            removed: removed)
    }
}
