import Foundation
import Workbench
import WorkbenchCore
import WorkbenchStore

/// `pwb corpus add|list|search`.
@MainActor
enum CorpusCommands {
    static var all: [Command] { [add, list, search] }

    static let add = Command(
        "corpus add", "index documents (text, markdown, JSONL) into a corpus for retrieval",
        arguments: "NAME PATH…", min: 2, max: Int.max, completing: .corpora,
        details: """
            Text and markdown files are cut into passages at headings and paragraphs. A JSONL file holds one
            document per line: {"id": "…", "title": "…", "text": "…"}. Folders are read recursively.
            Attach a corpus to an eval set with "corpus": "NAME" in its settings.
            """
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let name = invocation.positionals[0]
        let result = try workspace.addToCorpus(name, paths: Array(invocation.positionals.dropFirst()))
        invocation.output.line(
            "corpus \(result.name): \(result.sources) documents, \(result.passages) passages (\(result.added) added, \(result.removed) removed)"
        )
    }

    static let list = Command(
        "corpus list", "list corpora with their documents and passages", options: JSONOptions.self
    ) { invocation in
        let corpora = try invocation.session.workspace().store.corpora()
        if invocation.json {
            let items: [JSONValue] = corpora.map {
                [
                    "name": .string($0.corpus.name), "documents": .number(Double($0.sources)),
                    "passages": .number(Double($0.passages)),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        var table = Table([.init("CORPUS"), .init("DOCUMENTS", right: true), .init("PASSAGES", right: true)])
        for entry in corpora { table.add([entry.corpus.name, String(entry.sources), String(entry.passages)]) }
        invocation.output.lines(table.render())
    }

    struct SearchOptions: CommandOptions {
        let limit = OptionKey<Int>.number("limit", "N", in: 1...1000, "passages to show (default 5)")
        let json = Options.json
    }

    static let search = Command(
        "corpus search", "show the passages retrieval finds for a query (BM25)",
        arguments: "NAME QUERY…", min: 2, max: Int.max, completing: .corpora,
        options: SearchOptions.self
    ) { invocation in
        let workspace = try invocation.session.workspace()
        let corpus = try workspace.library.corpus(named: invocation.positionals[0])
        let query = invocation.positionals.dropFirst().joined(separator: " ")
        let hits = try workspace.library.searchPassages(corpus: corpus, query: query, limit: invocation.limit ?? 5)
        if invocation.json {
            let items: [JSONValue] = hits.map {
                [
                    "source": .string($0.document.source), "chunk": .number(Double($0.document.chunk)),
                    "title": .string($0.document.passage.title), "text": .string($0.document.passage.body),
                    "bm25": .number($0.rank),
                ]
            }
            invocation.output.line(JSONValue.array(items).serialized(pretty: true))
            return
        }
        guard !hits.isEmpty else {
            invocation.output.line("Nothing in \(corpus.name) matches \"\(query)\".")
            return
        }
        var table = Table([
            .init("#", right: true), .init("BM25", right: true), .init("SOURCE"), .init("PASSAGE", maxWidth: 90),
        ])
        for (index, hit) in hits.enumerated() {
            table.add([
                String(index + 1), String(format: "%.2f", -hit.rank), "\(hit.document.source)#\(hit.document.chunk)",
                hit.document.passage.body,
            ])
        }
        invocation.output.lines(table.render())
    }
}
