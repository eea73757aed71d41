import WorkbenchCore

/// A stored LoRA adapter: where its GGUF file is, what it was trained for and how.
public struct AdapterRecord: Sendable, Hashable {
    public var id: Int
    public var name: String
    public var evalsetID: Int
    public var revisionID: Int
    /// The identity of the model it was trained for, as runs record models.
    public var baseModel: String
    /// The GGUF adapter, relative to the workspace's state directory.
    public var path: String
    /// SHA-256 of the GGUF file, hex.
    public var hash: String
    /// Settings, data hash, loss curve, wall time and machine, as `pwb finetune` wrote them.
    public var training: JSONValue
    public var createdAt: String

    public init(
        id: Int, name: String, evalsetID: Int, revisionID: Int, baseModel: String, path: String, hash: String,
        training: JSONValue, createdAt: String
    ) {
        self.id = id
        self.name = name
        self.evalsetID = evalsetID
        self.revisionID = revisionID
        self.baseModel = baseModel
        self.path = path
        self.hash = hash
        self.training = training
        self.createdAt = createdAt
    }
}

extension Store {
    public func insertAdapter(_ adapter: AdapterRecord) throws -> Int {
        try database.run(
            """
            INSERT INTO adapters (name, evalset_id, revision_id, base_model, path, hash, training)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, .text(adapter.name), SQLValue(adapter.evalsetID), SQLValue(adapter.revisionID),
            .text(adapter.baseModel), .text(adapter.path), .text(adapter.hash), .text(adapter.training.serialized()))
        return Int(database.lastInsertRowID)
    }

    public func deleteAdapter(named name: String) throws {
        try database.run("DELETE FROM adapters WHERE name = ?", .text(name))
    }

    public func adapter(named name: String) throws -> AdapterRecord? {
        try database.queryFirst(
            "SELECT \(Store.adapterColumns) FROM adapters WHERE name = ?", .text(name), map: Store.adapterRecord)
    }

    public func adapters() throws -> [AdapterRecord] {
        try database.query("SELECT \(Store.adapterColumns) FROM adapters ORDER BY id", map: Store.adapterRecord)
    }

    static let adapterColumns = "id, name, evalset_id, revision_id, base_model, path, hash, training, created_at"

    static func adapterRecord(_ row: Row) throws -> AdapterRecord {
        AdapterRecord(
            id: row.int(0), name: row.text(1), evalsetID: row.int(2), revisionID: row.int(3), baseModel: row.text(4),
            path: row.text(5), hash: row.text(6), training: try row.json(7, "training", of: "adapter \(row.text(1))"),
            createdAt: row.text(8))
    }
}
