import WorkbenchCore

/// How a run was made, beyond its revision, model, split and strategy: what `runs.params`
/// holds. Every key is written and read here; elsewhere the parameters are typed.
package struct RunParameters: Sendable, Hashable {
    /// Samples per case (`--repeat`).
    package var repeats = 1
    /// Seeds choosing examples and sampling.
    package var seed = 0
    package var useCache = true
    package var concurrency = 4
    /// The model's name in the configuration (`local` for the managed runtime).
    package var modelName: String?
    /// The scorers the run was made with, as the eval set's settings wrote them, so a later
    /// change to the settings does not rewrite what an old run reported.
    package var scorers: [JSONValue]?
    /// Only the first `limit` cases of the split.
    package var limit: Int?
    /// What the model's identity was told apart by: its file's content, a digest, what its server
    /// says of the weights, or the name alone (nil in runs stored before it was said).
    package var identityBasis: String?
    /// The LoRA adapter applied, by name.
    package var adapter: String?
    /// How the answers were read (`one_token: true` in runs stored before readers were named).
    package var reader = Reader.generate
    /// One-token runs: the tokens each request generates to reach the answering step, past the
    /// whitespace-only tokens a label's answer begins with (1 in runs stored before it).
    package var readTokens = 1
    /// The examples block every case shares (random selection), rendered once.
    package var sharedExamples: String?

    package init() {}

    /// Reads what `json` wrote; keys it lacks keep their defaults (runs stored before them).
    package init(json: JSONValue) {
        repeats = json["repeat"]?.intValue ?? 1
        seed = json["seed"]?.intValue ?? 0
        useCache = json["use_cache"]?.boolValue ?? true
        concurrency = json["concurrency"]?.intValue ?? 4
        modelName = json["model_name"]?.stringValue
        scorers = json["scorers"]?.arrayValue
        limit = json["limit"]?.intValue
        adapter = json["adapter"]?.stringValue
        identityBasis = json["identity_basis"]?.stringValue
        reader =
            json["reader"]?.stringValue.flatMap(Reader.init(rawValue:))
            ?? Reader(storedOneToken: json["one_token"]?.boolValue ?? false)
        readTokens = json["read_tokens"]?.intValue ?? 1
        sharedExamples = json["shared_examples"]?.stringValue
    }

    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "repeat": .number(Double(repeats)), "seed": .number(Double(seed)), "use_cache": .bool(useCache),
            "concurrency": .number(Double(concurrency)),
        ]
        if let modelName { object["model_name"] = .string(modelName) }
        if let scorers { object["scorers"] = .array(scorers) }
        if let limit { object["limit"] = .number(Double(limit)) }
        if let adapter { object["adapter"] = .string(adapter) }
        if let identityBasis { object["identity_basis"] = .string(identityBasis) }
        object["reader"] = .string(reader.rawValue)
        if reader == .oneToken { object["read_tokens"] = .number(Double(readTokens)) }
        if let sharedExamples { object["shared_examples"] = .string(sharedExamples) }
        return .object(object)
    }
}
