import WorkbenchCore

package struct CorpusRecord: Sendable, Hashable {
    package var id: Int
    package var name: String
    package var description: String
    package var createdAt: String
}

/// A stored passage with its place in the corpus.
package struct DocumentRecord: Sendable, Hashable {
    package var id: Int
    package var source: String
    package var chunk: Int
    package var passage: Passage
}

/// A passage that retrieval found, with its BM25 rank (lower is better, as SQLite reports it).
package struct RetrievedPassage: Sendable, Hashable {
    package var document: DocumentRecord
    package var rank: Double
}

extension Store {
    package func corpus(named name: String) throws -> CorpusRecord? {
        try database.queryFirst(
            "SELECT id, name, description, created_at FROM corpora WHERE name IN (?1, ?2) ORDER BY name = ?1 DESC",
            .text(Names.canonical(name)), .text(name), map: Store.corpus)
    }

    package func corpora() throws -> [(corpus: CorpusRecord, sources: Int, passages: Int)] {
        try database.query(
            """
            SELECT c.id, c.name, c.description, c.created_at,
                   (SELECT COUNT(DISTINCT source) FROM documents d WHERE d.corpus_id = c.id),
                   (SELECT COUNT(*) FROM documents d WHERE d.corpus_id = c.id)
            FROM corpora c ORDER BY c.name
            """
        ) { (Store.corpus($0), $0.int(4), $0.int(5)) }
    }

    package func passageCount(corpusID: Int) throws -> Int {
        try database.queryFirst("SELECT COUNT(*) FROM documents WHERE corpus_id = ?", SQLValue(corpusID)) { $0.int(0) }
            ?? 0
    }

    package func ensureCorpus(named name: String) throws -> CorpusRecord {
        if let existing = try corpus(named: name) { return existing }
        try database.run("INSERT INTO corpora (name) VALUES (?)", .text(Names.canonical(name)))
        return try corpus(named: name)!
    }

    /// Makes the passages of `sources` equal the given ones; other sources of the corpus are
    /// kept unless `replaceAll` is set. Returns how many passages were added and removed.
    package func syncDocuments(corpusID: Int, passagesBySource: [String: [Passage]], replaceAll: Bool) throws
        -> (added: Int, removed: Int)
    {
        var existing: [String: [Int: (id: Int, hash: String)]] = [:]
        for (id, source, chunk, hash) in try database.query(
            "SELECT id, source, chunk, hash FROM documents WHERE corpus_id = ?", SQLValue(corpusID),
            map: { ($0.int(0), $0.text(1), $0.int(2), $0.text(3)) })
        {
            existing[source, default: [:]][chunk] = (id, hash)
        }
        let delete = try database.statement("DELETE FROM documents WHERE id = ?")
        let insert = try database.statement(
            "INSERT INTO documents (corpus_id, source, chunk, title, body, hash) VALUES (?, ?, ?, ?, ?, ?)")
        var inserted: [(Int, Passage)] = []
        var removed = 0
        for (source, passages) in passagesBySource {
            let old = existing[source] ?? [:]
            for (chunk, passage) in passages.enumerated() {
                let hash = SHA256.hex(passage.title + "\u{1F}" + passage.body)
                if let previous = old[chunk] {
                    if previous.hash == hash { continue }
                    try delete.run([SQLValue(previous.id)])
                    removed += 1
                }
                try insert.run([
                    SQLValue(corpusID), .text(source), SQLValue(chunk), .text(passage.title), .text(passage.body),
                    .text(hash),
                ])
                inserted.append((Int(database.lastInsertRowID), passage))
            }
            for (chunk, previous) in old where chunk >= passages.count {
                try delete.run([SQLValue(previous.id)])
                removed += 1
            }
        }
        if replaceAll {
            for (source, chunks) in existing where passagesBySource[source] == nil {
                for (_, previous) in chunks {
                    try delete.run([SQLValue(previous.id)])
                    removed += 1
                }
            }
        }
        let index = try database.statement("INSERT INTO documents_fts (rowid, scope, text) VALUES (?, ?, ?)")
        for (rowID, passage) in inserted {
            try index.run([
                SQLValue(rowID), .text(Store.scope("c", corpusID)),
                .text(SearchText.indexable(passage.title + "\n" + passage.body)),
            ])
        }
        return (inserted.count, removed)
    }

    package func documents(corpusID: Int) throws -> [DocumentRecord] {
        try database.query(
            "SELECT id, source, chunk, title, body FROM documents WHERE corpus_id = ? ORDER BY source, chunk",
            SQLValue(corpusID), map: Store.document)
    }

    /// The best passages for an FTS5 `match` expression over `SearchText`, by BM25.
    package func searchDocuments(corpusID: Int, match: String, limit: Int) throws -> [RetrievedPassage] {
        try database.query(
            """
            SELECT d.id, d.source, d.chunk, d.title, d.body, bm25(documents_fts, 0.0, 1.0) AS rank
            FROM documents_fts JOIN documents d ON d.id = documents_fts.rowid
            WHERE documents_fts MATCH ?
            ORDER BY rank LIMIT ?
            """,
            .text("scope : \"\(Store.scope("c", corpusID))\" AND text : (\(match))"), SQLValue(limit)
        ) { RetrievedPassage(document: Store.document($0), rank: $0.double(5)) }
    }

    static func corpus(_ row: Row) -> CorpusRecord {
        CorpusRecord(id: row.int(0), name: row.text(1), description: row.text(2), createdAt: row.text(3))
    }

    static func document(_ row: Row) -> DocumentRecord {
        DocumentRecord(
            id: row.int(0), source: row.text(1), chunk: row.int(2),
            passage: Passage(title: row.text(3), body: row.text(4)))
    }
}
