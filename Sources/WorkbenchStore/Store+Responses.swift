import WorkbenchCore

extension Store {
    /// The request stored with a cached response: the exact prompt or messages and the sampling
    /// settings that were sent, as the engine recorded them. Nil when no response has that key.
    package func responseRequest(key: String) throws -> JSONValue? {
        try database.queryFirst("SELECT request FROM responses WHERE key = ?", .text(key)) { row in
            try row.json(0, "request", of: "cached response \(key)")
        }
    }
}
