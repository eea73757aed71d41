import WorkbenchCore

package struct EvalSetRecord: Sendable, Hashable {
    package var id: Int
    package var name: String
    package var settingsJSON: String
    package var source: String
    package var createdAt: String
    package var updatedAt: String
}

/// A case as stored: its row id (what results point at) and the case itself.
package struct StoredCase: Sendable, Hashable {
    package var rowID: Int
    package var position: Int
    package var hash: String
    package var evalCase: EvalCase
}

/// What an import changed in an eval set's cases.
package struct CaseChanges: Sendable, Equatable {
    package var added: [String] = []
    package var changed: [String] = []
    package var removed: [String] = []
    package var unchanged = 0

    package var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty }
}

extension Store {
    package func evalset(named name: String) throws -> EvalSetRecord? {
        try database.queryFirst(
            "SELECT \(Store.evalsetColumns) FROM evalsets WHERE name IN (?1, ?2) ORDER BY name = ?1 DESC",
            .text(Names.canonical(name)), .text(name), map: Store.evalset)
    }

    package func evalset(id: Int) throws -> EvalSetRecord? {
        try database.queryFirst(
            "SELECT \(Store.evalsetColumns) FROM evalsets WHERE id = ?", SQLValue(id), map: Store.evalset)
    }

    package func evalsets() throws -> [EvalSetRecord] {
        try database.query("SELECT \(Store.evalsetColumns) FROM evalsets ORDER BY name", map: Store.evalset)
    }

    /// How many active cases each split of an eval set has.
    package func splitCounts(evalsetID: Int) throws -> [Split: Int] {
        let rows = try database.query(
            "SELECT split, COUNT(*) FROM cases WHERE evalset_id = ? AND retired = 0 GROUP BY split",
            SQLValue(evalsetID)
        ) { ($0.text(0), $0.int(1)) }
        var counts: [Split: Int] = [:]
        for (split, count) in rows { if let split = Split(rawValue: split) { counts[split] = count } }
        return counts
    }

    /// Creates the eval set or updates its settings and source.
    /// Returns the record and whether its settings changed.
    package func upsertEvalset(name: String, settingsJSON: String, source: String) throws
        -> (record: EvalSetRecord, changed: Bool)
    {
        if let existing = try evalset(named: name) {
            if existing.settingsJSON == settingsJSON && existing.source == source { return (existing, false) }
            try database.run(
                """
                UPDATE evalsets SET settings = ?, source = ?,
                    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?
                """,
                .text(settingsJSON), .text(source), SQLValue(existing.id))
            return (try evalset(id: existing.id)!, existing.settingsJSON != settingsJSON)
        }
        try database.run(
            "INSERT INTO evalsets (name, settings, source) VALUES (?, ?, ?)",
            .text(Names.canonical(name)), .text(settingsJSON), .text(source))
        return (try evalset(id: Int(database.lastInsertRowID))!, true)
    }

    /// Makes the eval set's active cases equal `cases`: new keys are added, cases whose content
    /// changed are retired and added anew, keys no longer present are retired. Old rows stay, so
    /// results of earlier runs keep the case they were scored against.
    package func syncCases(evalsetID: Int, cases: [EvalCase], inputVariable: String?) throws -> CaseChanges {
        var existing: [String: (rowID: Int, hash: String, position: Int)] = [:]
        for (rowID, key, hash, position) in try database.query(
            "SELECT id, key, hash, position FROM cases WHERE evalset_id = ? AND retired = 0", SQLValue(evalsetID),
            map: { ($0.int(0), $0.text(1), $0.text(2), $0.int(3)) })
        {
            existing[key] = (rowID, hash, position)
        }
        var changes = CaseChanges()
        let insert = try database.statement(
            """
            INSERT INTO cases (evalset_id, key, position, vars, expected, split, tags, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let retire = try database.statement("UPDATE cases SET retired = 1 WHERE id = ?")
        let move = try database.statement("UPDATE cases SET position = ? WHERE id = ?")
        var seen = Set<String>()
        seen.reserveCapacity(cases.count)
        var inserted: [(Int, String)] = []
        for (position, evalCase) in cases.enumerated() {
            seen.insert(evalCase.id)
            let vars = JSONValue.object(evalCase.vars).serialized()
            let expected = evalCase.expected.serialized()
            let tags = JSONValue.array(evalCase.tags.map { .string($0) }).serialized()
            let hash = SHA256.hex(vars + "\u{1F}" + expected + "\u{1F}" + evalCase.split.rawValue + "\u{1F}" + tags)
            if let old = existing[evalCase.id] {
                if old.hash == hash {
                    if old.position != position { try move.run([SQLValue(position), SQLValue(old.rowID)]) }
                    changes.unchanged += 1
                    continue
                }
                try retire.run([SQLValue(old.rowID)])
                changes.changed.append(evalCase.id)
            } else {
                changes.added.append(evalCase.id)
            }
            try insert.run([
                SQLValue(evalsetID), .text(evalCase.id), SQLValue(position), .text(vars), .text(expected),
                .text(evalCase.split.rawValue), .text(tags), .text(hash),
            ])
            inserted.append((Int(database.lastInsertRowID), evalCase.inputText(inputVariable: inputVariable)))
        }
        for (key, old) in existing where !seen.contains(key) {
            try retire.run([SQLValue(old.rowID)])
            changes.removed.append(key)
        }
        try index(cases: inserted, evalsetID: evalsetID)
        changes.removed.sort()
        return changes
    }

    /// The active cases of an eval set, in file order; one split, or all when `split` is nil.
    package func cases(evalsetID: Int, split: Split? = nil) throws -> [StoredCase] {
        if let split {
            return try database.query(
                "SELECT \(Store.caseColumns) FROM cases WHERE evalset_id = ? AND retired = 0 AND split = ? ORDER BY position",
                SQLValue(evalsetID), .text(split.rawValue), map: Store.storedCase)
        }
        return try database.query(
            "SELECT \(Store.caseColumns) FROM cases WHERE evalset_id = ? AND retired = 0 ORDER BY position",
            SQLValue(evalsetID), map: Store.storedCase)
    }

    /// The row ids of the split's active cases, in order: a plan to read in parts with `cases(rowIDs:)`.
    package func caseRowIDs(evalsetID: Int, split: Split) throws -> [Int] {
        try database.query(
            "SELECT id FROM cases WHERE evalset_id = ? AND retired = 0 AND split = ? ORDER BY position",
            SQLValue(evalsetID), .text(split.rawValue), map: { $0.int(0) })
    }

    /// The active case with `key`, or nil.
    package func activeCase(evalsetID: Int, key: String) throws -> StoredCase? {
        try database.queryFirst(
            "SELECT \(Store.caseColumns) FROM cases WHERE evalset_id = ? AND retired = 0 AND key = ?",
            SQLValue(evalsetID), .text(key), map: Store.storedCase)
    }

    /// Cases by row id, retired ones included (results point at them).
    package func cases(rowIDs: [Int]) throws -> [Int: StoredCase] {
        var found: [Int: StoredCase] = [:]
        // A few hundred ids per query: a report reads every case of a run.
        let unique = Array(Set(rowIDs))
        let chunk = 250
        for start in stride(from: 0, to: unique.count, by: chunk) {
            let part = unique[start..<min(start + chunk, unique.count)]
            let marks = Array(repeating: "?", count: part.count).joined(separator: ", ")
            let statement = try database.statement("SELECT \(Store.caseColumns) FROM cases WHERE id IN (\(marks))")
            for stored in try statement.query(part.map { SQLValue($0) }, map: Store.storedCase) {
                found[stored.rowID] = stored
            }
        }
        return found
    }

    /// Adds cases' inputs to the similar-example index.
    private func index(cases: [(rowID: Int, input: String)], evalsetID: Int) throws {
        let insert = try database.statement("INSERT INTO cases_fts (rowid, scope, text) VALUES (?, ?, ?)")
        for (rowID, input) in cases {
            try insert.run([SQLValue(rowID), .text(Store.scope("e", evalsetID)), .text(SearchText.indexable(input))])
        }
    }

    /// Indexes the eval set's active cases anew, by a different input variable.
    package func reindexCases(evalsetID: Int, inputVariable: String?) throws {
        let active = try cases(evalsetID: evalsetID)
        try database.run(
            "DELETE FROM cases_fts WHERE rowid IN (SELECT id FROM cases WHERE evalset_id = ?)", SQLValue(evalsetID))
        try index(
            cases: active.map { ($0.rowID, $0.evalCase.inputText(inputVariable: inputVariable)) }, evalsetID: evalsetID)
    }

    /// The token that confines a search to one eval set (`e`) or corpus (`c`).
    static func scope(_ kind: String, _ id: Int) -> String { "x\(kind)\(id)x" }

    /// Active cases of one split whose input matches an FTS5 expression, best BM25 first (ties in
    /// the eval set's order, so the best k are the first k of the best k + 1).
    package func searchCases(evalsetID: Int, split: Split, match: String, limit: Int, excluding: Int) throws
        -> [StoredCase]
    {
        try database.query(
            """
            SELECT \(Store.caseColumns.split(separator: ",").map { "c." + $0.trimmingWhitespace() }.joined(separator: ", "))
            FROM cases_fts JOIN cases c ON c.id = cases_fts.rowid
            WHERE cases_fts MATCH ? AND c.split = ? AND c.retired = 0 AND c.id != ?
            ORDER BY bm25(cases_fts, 0.0, 1.0), c.position LIMIT ?
            """,
            .text("scope : \"\(Store.scope("e", evalsetID))\" AND text : (\(match))"), .text(split.rawValue),
            SQLValue(excluding), SQLValue(limit),
            map: Store.storedCase)
    }

    static let evalsetColumns = "id, name, settings, source, created_at, updated_at"
    static let caseColumns = "id, key, position, vars, expected, split, tags, hash"

    static func evalset(_ row: Row) -> EvalSetRecord {
        EvalSetRecord(
            id: row.int(0), name: row.text(1), settingsJSON: row.text(2), source: row.text(3), createdAt: row.text(4),
            updatedAt: row.text(5))
    }

    /// Stored JSON was written by `pwb` itself, so a parse failure means a damaged file.
    static func storedCase(_ row: Row) throws -> StoredCase {
        let name = "case \(row.text(1))"
        let vars = try row.json(3, "vars", of: name).objectValue ?? [:]
        let expected = try row.json(4, "expected", of: name)
        let tags = try row.json(6, "tags", of: name).arrayValue?.compactMap(\.stringValue) ?? []
        let evalCase = EvalCase(
            id: row.text(1), vars: vars, expected: expected, split: Split(rawValue: row.text(5)) ?? .dev, tags: tags)
        return StoredCase(rowID: row.int(0), position: row.int(2), hash: row.text(7), evalCase: evalCase)
    }
}
