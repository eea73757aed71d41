import Foundation

/// One entry of an eval set's `scorers`: a scorer with its settings, as a settings file writes it.
package struct ScorerSpec: Sendable, Hashable {
    package let scorer: any Scorer

    package init(_ scorer: any Scorer) {
        self.scorer = scorer
    }

    /// The scorer's kind, which says its name and whether it is pass/fail.
    package var kind: any Scorer.Type { type(of: scorer) }

    package var name: String { kind.name }

    /// Whether the scorer reads labels (a label task's scorer).
    package var readsLabels: Bool { !scorer.labels.isEmpty }

    /// The labels the scorer reads; empty for scorers that do not read labels.
    package var labels: [String] { scorer.labels }

    /// Reads one entry of a settings file's `scorers` list: a name, or `{"type": name, …}`.
    package init(parsing value: JSONValue, labels defaultLabels: [String], field: String) throws {
        let fields: [String: JSONValue]
        switch value {
        case .string(let name): fields = ["type": .string(name)]
        case .object(let object): fields = object
        default: throw InputError(field: field, "must be a scorer name or an object with \"type\"")
        }
        let names = Scorers.all.map { $0.name }
        guard let typeName = fields["type"]?.stringValue else {
            throw InputError(field: field, "needs \"type\" (one of \(names.joined(separator: ", ")))")
        }
        guard let kind = Scorers.kind(named: typeName) else {
            let hint = Suggest.nearest(to: typeName, in: names).map { " (did you mean \($0)?)" } ?? ""
            throw InputError(
                field: field + ".type",
                "\"\(typeName)\" is not a scorer\(hint); use one of \(names.joined(separator: ", "))")
        }
        let allowed = Set(["type"] + kind.settingKeys)
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw InputError(field: "\(field).\(key)", "is not a setting of the \(typeName) scorer")
        }
        scorer = try kind.init(settings: fields, labels: defaultLabels, field: field)
    }

    /// The spec as it is written in a settings file.
    package var json: JSONValue {
        .object(scorer.settings.merging(["type": .string(name)]) { _, type in type })
    }

    package static func == (a: ScorerSpec, b: ScorerSpec) -> Bool {
        a.json == b.json
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(json)
    }
}

/// `evalsets/<name>.json`: what the set is, how it is scored, what stands for a case in search.
package struct EvalSetSettings: Sendable, Hashable {
    package var description: String = ""
    /// The first scorer gives the headline score; the others are reported beside it.
    package var scorers: [ScorerSpec] = [ScorerSpec(NormalizedScorer())]
    /// The variable that is the case's input for similarity search and retrieval.
    package var input: String?
    /// The corpus whose passages fill `{{context}}` when retrieval is on.
    package var corpus: String?

    package init() {}

    package static let keys = ["description", "scorers", "labels", "input", "corpus"]

    /// Parses a settings file's text.
    package init(parsing text: String) throws {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text)
        } catch {
            throw InputError("is not JSON: \(error)")
        }
        guard case .object(let fields) = value else { throw InputError("must be a JSON object") }
        for key in fields.keys.sorted() where !EvalSetSettings.keys.contains(key) {
            let hint = Suggest.nearest(to: key, in: EvalSetSettings.keys).map { "did you mean \"\($0)\"? " } ?? ""
            throw InputError(
                field: key, "is not a setting; \(hint)settings are \(EvalSetSettings.keys.joined(separator: ", "))")
        }
        if let description = fields["description"] {
            guard let text = description.stringValue else { throw InputError(field: "description", "must be text") }
            self.description = text
        }
        var labels: [String] = []
        if let raw = fields["labels"] {
            guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw InputError(field: "labels", "must be a list of texts")
            }
            labels = items.compactMap(\.stringValue)
        }
        if let raw = fields["scorers"] {
            let entries: [JSONValue]
            switch raw {
            case .array(let items): entries = items
            case .string, .object: entries = [raw]
            default: throw InputError(field: "scorers", "must be a list of scorers")
            }
            guard !entries.isEmpty else { throw InputError(field: "scorers", "is empty; name at least one scorer") }
            var specs: [ScorerSpec] = []
            for (index, entry) in entries.enumerated() {
                specs.append(try ScorerSpec(parsing: entry, labels: labels, field: "scorers[\(index)]"))
            }
            // The engine asks a judge one question per answer.
            let judged = specs.filter { $0.scorer.judged != nil }
            if judged.count > 1 {
                let name = judged[0].name
                throw InputError(
                    field: "scorers", "has more than one \(name) scorer; a judge grades one \(name), so merge them")
            }
            scorers = specs
        } else if !labels.isEmpty {
            scorers = [ScorerSpec(LabelScorer(labels: labels))]
        }
        for name in ["input", "corpus"] {
            guard let raw = fields[name] else { continue }
            guard let text = raw.stringValue, Names.problem(with: text) == nil || name == "input" else {
                throw InputError(field: name, "must be a name")
            }
            if name == "input" { input = text } else { corpus = text }
        }
    }

    /// The labels of the first label scorer, if any.
    package var labels: [String] {
        scorers.first(where: \.readsLabels)?.labels ?? []
    }

    /// The settings as JSON, as stored and exported.
    package var json: JSONValue {
        var object: [String: JSONValue] = ["scorers": .array(scorers.map(\.json))]
        if !description.isEmpty { object["description"] = .string(description) }
        if let input { object["input"] = .string(input) }
        if let corpus { object["corpus"] = .string(corpus) }
        return .object(object)
    }
}
