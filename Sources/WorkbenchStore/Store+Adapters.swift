import WorkbenchCore

/// A stored LoRA adapter: where its GGUF file is, what it was trained for and how. A model tuned by
/// a hosted fine-tuning job is recorded the same way, marked `hosted`.
package struct AdapterRecord: Sendable, Hashable {
    package var id: Int
    package var name: String
    package var evalsetID: Int
    package var revisionID: Int
    /// The identity of the model it was trained for, as runs record models.
    package var baseModel: String
    /// The GGUF adapter, relative to the workspace's state directory.
    package var path: String
    /// SHA-256 of the GGUF file, hex.
    package var hash: String
    /// How it was trained: here (settings, data hash, loss and validation curves, wall time,
    /// device and machine), or by a provider's job.
    package var training: Training
    package var createdAt: String

    package enum Training: Sendable, Hashable {
        case local(AdapterTraining)
        /// A provider trained it: there is no file, `path` names the job, and the tuned model is
        /// served by the provider.
        case hosted(HostedTraining)

        init(json: JSONValue) {
            self = HostedTraining(json: json).map(Training.hosted) ?? .local(AdapterTraining(json: json))
        }

        package var json: JSONValue {
            switch self {
            case .local(let training): training.json
            case .hosted(let training): training.json
            }
        }
    }

    /// How it was trained here; nil for a hosted job's model.
    package var local: AdapterTraining? {
        if case .local(let training) = training { return training }
        return nil
    }

    /// The provider's job; nil for an adapter trained here.
    package var hosted: HostedTraining? {
        if case .hosted(let training) = training { return training }
        return nil
    }

    package var isHosted: Bool { hosted != nil }

    /// Short hashes of the inputs it was taught, so that no evaluation scores it on them.
    package var trainInputs: [String] { local?.trainInputs ?? hosted?.trainInputs ?? [] }

    package init(
        id: Int, name: String, evalsetID: Int, revisionID: Int, baseModel: String, path: String, hash: String,
        training: Training, createdAt: String
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
    package func insertAdapter(_ adapter: AdapterRecord) throws -> Int {
        try database.run(
            """
            INSERT INTO adapters (name, evalset_id, revision_id, base_model, path, hash, training)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, .text(adapter.name), SQLValue(adapter.evalsetID), SQLValue(adapter.revisionID),
            .text(adapter.baseModel), .text(adapter.path), .text(adapter.hash),
            .text(adapter.training.json.serialized()))
        return Int(database.lastInsertRowID)
    }

    /// Replaces how an adapter was trained: a hosted job's record as it runs and when it ends.
    package func updateAdapter(named name: String, hash: String, training: AdapterRecord.Training) throws {
        try database.run(
            "UPDATE adapters SET hash = ?, training = ? WHERE name = ?", .text(hash),
            .text(training.json.serialized()), .text(name))
    }

    package func deleteAdapter(named name: String) throws {
        try database.run("DELETE FROM adapters WHERE name = ?", .text(name))
    }

    package func adapter(named name: String) throws -> AdapterRecord? {
        try database.queryFirst(
            "SELECT \(Store.adapterColumns) FROM adapters WHERE name = ?", .text(name), map: Store.adapterRecord)
    }

    package func adapters() throws -> [AdapterRecord] {
        try database.query("SELECT \(Store.adapterColumns) FROM adapters ORDER BY id", map: Store.adapterRecord)
    }

    static let adapterColumns = "id, name, evalset_id, revision_id, base_model, path, hash, training, created_at"

    static func adapterRecord(_ row: Row) throws -> AdapterRecord {
        AdapterRecord(
            id: row.int(0), name: row.text(1), evalsetID: row.int(2), revisionID: row.int(3), baseModel: row.text(4),
            path: row.text(5), hash: row.text(6),
            training: AdapterRecord.Training(json: try row.json(7, "training", of: "adapter \(row.text(1))")),
            createdAt: row.text(8))
    }
}
