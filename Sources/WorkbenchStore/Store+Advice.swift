import WorkbenchCore

/// A stored piece of advice: what was asked and the whole report, as JSON text.
package struct AdviceRecord: Sendable {
    package var id: Int
    package var templateID: Int
    package var evalsetID: Int
    package var params: JSONValue
    package var report: String
    package var createdAt: String
}

extension Store {
    package func insertAdvice(templateID: Int, evalsetID: Int, params: JSONValue, report: String) throws -> Int {
        try database.run(
            "INSERT INTO advice (template_id, evalset_id, params, report) VALUES (?, ?, ?, ?)", SQLValue(templateID),
            SQLValue(evalsetID), .text(params.serialized()), .text(report))
        return Int(database.lastInsertRowID)
    }

    package func advice(id: Int) throws -> AdviceRecord? {
        try database.queryFirst(
            "SELECT id, template_id, evalset_id, params, report, created_at FROM advice WHERE id = ?", SQLValue(id),
            map: Store.adviceRecord)
    }

    package func latestAdvice() throws -> AdviceRecord? {
        try database.queryFirst(
            "SELECT id, template_id, evalset_id, params, report, created_at FROM advice ORDER BY id DESC LIMIT 1",
            map: Store.adviceRecord)
    }

    static func adviceRecord(_ row: Row) throws -> AdviceRecord {
        AdviceRecord(
            id: row.int(0), templateID: row.int(1), evalsetID: row.int(2),
            params: try row.json(3, "params", of: "advice \(row.int(0))"),
            report: row.text(4), createdAt: row.text(5))
    }
}
