import Foundation
import WorkbenchCore
import WorkbenchStore

extension Library {
    /// The corpus called `name`, or a usage error suggesting the nearest.
    package func corpus(named name: String) throws -> CorpusRecord {
        if let found = try store.corpus(named: name) { return found }
        let names = try store.corpora().map(\.corpus.name)
        let hint: Message =
            names.isEmpty
            ? " (add one with \(command: "corpus add NAME PATH…"))"
            : Suggest.nearest(to: name, in: names).map { "; did you mean \($0)?" } ?? ""
        throw Refusal("there is no corpus \"\(name)\"\(hint)")
    }

    /// The passages of the corpus called `name`; nil when there is no such corpus.
    func passageCount(corpus name: String) throws -> Int? {
        try store.corpus(named: name).map { try store.passageCount(corpusID: $0.id) }
    }

    /// The `limit` passages of a corpus that best match `query`, by BM25.
    package func searchPassages(corpus: CorpusRecord, query: String, limit: Int) throws -> [RetrievedPassage] {
        guard let match = SearchQuery.match(query) else { return [] }
        return try store.searchDocuments(corpusID: corpus.id, match: match, limit: limit)
    }

    /// The `k` train cases of an eval set whose inputs best match the case's, by BM25. Never the
    /// case itself, nor a train case with the very same input: that would hand the model the answer.
    package func similarCases(evalsetID: Int, to stored: StoredCase, k: Int, inputVariable: String?) throws
        -> [StoredCase]
    {
        let input = stored.evalCase.inputText(inputVariable: inputVariable)
        guard k > 0, let match = SearchQuery.match(input) else { return [] }
        let found = try store.searchCases(
            evalsetID: evalsetID, split: .train, match: match, limit: k + 5, excluding: stored.rowID)
        return Array(found.filter { $0.evalCase.inputText(inputVariable: inputVariable) != input }.prefix(k))
    }
}
