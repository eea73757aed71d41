import Foundation

/// How the outputs for an eval set are scored, and which scorer comes first.
public struct ScorerSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case exact, normalized, contains, regex, label, json, numeric
        case tokenF1 = "token_f1"
        case rougeL = "rouge_l"
        case chrf, levenshtein, rubric
        case logprobLabel = "logprob_label"

        /// Pass/fail scorers give 0 or 1 per case; the others give a fraction.
        public var isPassFail: Bool {
            switch self {
            case .exact, .normalized, .contains, .regex, .label, .json, .numeric, .logprobLabel: true
            case .tokenF1, .rougeL, .chrf, .levenshtein, .rubric: false
            }
        }
    }

    public var kind: Kind
    /// Labels, for `label` and `logprob_label`.
    public var labels: [String] = []
    /// The pattern the output must match, for `regex`.
    public var pattern: String?
    /// Dotted paths that must be equal in the output's JSON and the expected JSON, for `json`;
    /// empty means the whole value.
    public var fields: [String] = []
    /// Allowed absolute difference, for `numeric`.
    public var tolerance: Double = 0
    /// What a judge model should check, for `rubric`.
    public var rubric: String?

    public init(kind: Kind) {
        self.kind = kind
    }

    public var name: String { kind.rawValue }

    static let keys: [Kind: [String]] = [
        .label: ["labels"], .logprobLabel: ["labels"], .regex: ["pattern"], .json: ["fields"],
        .numeric: ["tolerance"], .rubric: ["rubric"],
    ]

    /// Reads one entry of a settings file's `scorers` list: a name, or `{"type": name, …}`.
    public init(parsing value: JSONValue, labels defaultLabels: [String], field: String) throws {
        let fields: [String: JSONValue]
        switch value {
        case .string(let name): fields = ["type": .string(name)]
        case .object(let object): fields = object
        default: throw InputError(field: field, "must be a scorer name or an object with \"type\"")
        }
        guard let typeName = fields["type"]?.stringValue else {
            throw InputError(
                field: field, "needs \"type\" (one of \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let kind = Kind(rawValue: typeName) else {
            let hint =
                Suggest.nearest(to: typeName, in: Kind.allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
            throw InputError(
                field: field + ".type",
                "\"\(typeName)\" is not a scorer\(hint); use one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self.init(kind: kind)
        let allowed = Set(["type"] + (ScorerSpec.keys[kind] ?? []))
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw InputError(field: "\(field).\(key)", "is not a setting of the \(typeName) scorer")
        }
        switch kind {
        case .label, .logprobLabel:
            if let raw = fields["labels"] {
                guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw InputError(field: field + ".labels", "must be a list of texts")
                }
                labels = items.compactMap(\.stringValue)
            } else {
                labels = defaultLabels
            }
            guard labels.count >= 2 else {
                throw InputError(field: field + ".labels", "the \(typeName) scorer needs at least two labels")
            }
            if let empty = labels.first(where: { $0.trimmingWhitespace().isEmpty }) {
                throw InputError(field: field + ".labels", "a label is empty (\"\(empty)\")")
            }
            if let repeated = ScorerSpec.firstRepeat(labels.map(TextNormalizer.normalize)) {
                throw InputError(field: field + ".labels", "the label \"\(repeated)\" is listed twice")
            }
        case .regex:
            guard let pattern = fields["pattern"]?.stringValue else {
                throw InputError(field: field + ".pattern", "the regex scorer needs a pattern")
            }
            do {
                _ = try NSRegularExpression(pattern: pattern)
            } catch {
                throw InputError(field: field + ".pattern", "\"\(pattern)\" is not a valid regular expression")
            }
            self.pattern = pattern
        case .json:
            if let raw = fields["fields"] {
                guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw InputError(
                        field: field + ".fields", "must be a list of dotted paths such as \"address.city\"")
                }
                self.fields = items.compactMap(\.stringValue)
                if let repeated = ScorerSpec.firstRepeat(self.fields) {
                    throw InputError(field: field + ".fields", "the field \"\(repeated)\" is listed twice")
                }
                for path in self.fields
                where path.isEmpty
                    || path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
                {
                    throw InputError(
                        field: field + ".fields", "\"\(path)\" is not a dotted path such as \"address.city\"")
                }
            }
        case .numeric:
            if let raw = fields["tolerance"] {
                guard let tolerance = raw.doubleValue, tolerance >= 0 else {
                    throw InputError(field: field + ".tolerance", "must be a number, 0 or more")
                }
                self.tolerance = tolerance
            }
        case .rubric:
            guard let rubric = fields["rubric"]?.stringValue, !rubric.trimmingWhitespace().isEmpty else {
                throw InputError(field: field + ".rubric", "the rubric scorer needs the criteria a judge checks")
            }
            self.rubric = rubric
        default: break
        }
    }

    static func firstRepeat(_ values: [String]) -> String? {
        var seen = Set<String>()
        return values.first { !seen.insert($0).inserted }
    }

    /// The spec as it is written in a settings file.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["type": .string(kind.rawValue)]
        if !labels.isEmpty { object["labels"] = .array(labels.map { .string($0) }) }
        if let pattern { object["pattern"] = .string(pattern) }
        if !fields.isEmpty { object["fields"] = .array(fields.map { .string($0) }) }
        if kind == .numeric { object["tolerance"] = .number(tolerance) }
        if let rubric { object["rubric"] = .string(rubric) }
        return .object(object)
    }
}

/// `evalsets/<name>.json`: what the set is, how it is scored, what stands for a case in search.
public struct EvalSetSettings: Sendable, Hashable {
    public var description: String = ""
    /// The first scorer gives the headline score; the others are reported beside it.
    public var scorers: [ScorerSpec] = [ScorerSpec(kind: .normalized)]
    /// The variable that is the case's input for similarity search and retrieval.
    public var input: String?
    /// The corpus whose passages fill `{{context}}` when retrieval is on.
    public var corpus: String?

    public init() {}

    public static let keys = ["description", "scorers", "labels", "input", "corpus"]

    /// Parses a settings file's text.
    public init(parsing text: String) throws {
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
            if specs.count(where: { $0.kind == .rubric }) > 1 {
                throw InputError(
                    field: "scorers", "has more than one rubric scorer; a judge grades one rubric, so merge them")
            }
            scorers = specs
        } else if !labels.isEmpty {
            var spec = ScorerSpec(kind: .label)
            spec.labels = labels
            scorers = [spec]
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
    public var labels: [String] {
        scorers.first(where: { $0.kind == .label || $0.kind == .logprobLabel })?.labels ?? []
    }

    /// The settings as JSON, as stored and exported.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["scorers": .array(scorers.map(\.json))]
        if !description.isEmpty { object["description"] = .string(description) }
        if let input { object["input"] = .string(input) }
        if let corpus { object["corpus"] = .string(corpus) }
        return .object(object)
    }
}
