import Foundation

/// The output is JSON (the first object or array in it) and the listed fields equal the
/// expected ones (strings compared normalized, numbers by value).
package struct JSONFieldsScorer: Scorer {
    package static let name = "json"
    package static let isPassFail = true
    package static let settingKeys = ["fields"]

    /// Dotted paths that must be equal in the output's JSON and the expected JSON; empty means
    /// the whole value.
    package var fields: [String]

    package init(fields: [String] = []) {
        self.fields = fields
    }

    package init(settings: [String: JSONValue], labels: [String], field: String) throws {
        self.init()
        guard let raw = settings["fields"] else { return }
        guard let items = raw.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
            throw InputError(field: field + ".fields", "must be a list of dotted paths such as \"address.city\"")
        }
        fields = items.compactMap(\.stringValue)
        if let repeated = Scorers.firstRepeat(fields) {
            throw InputError(field: field + ".fields", "the field \"\(repeated)\" is listed twice")
        }
        for path in fields
        where path.isEmpty || path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw InputError(field: field + ".fields", "\"\(path)\" is not a dotted path such as \"address.city\"")
        }
    }

    package var settings: [String: JSONValue] {
        fields.isEmpty ? [:] : ["fields": .array(fields.map { .string($0) })]
    }

    /// Adds the share of valid answers each listed field was right in.
    package func summarize(_ scored: [(score: Score, expected: JSONValue)], into summary: inout ScorerSummary) {
        var hits: [String: Int] = [:]
        var total = 0
        for (score, _) in scored {
            guard let fields = score.detail?["fields"]?.objectValue else { continue }
            total += 1
            for (field, hit) in fields where hit == .bool(true) { hits[field, default: 0] += 1 }
        }
        guard !fields.isEmpty, total > 0 else { return }
        summary.fieldAccuracy = Dictionary(
            uniqueKeysWithValues: fields.map { ($0, Double(hits[$0] ?? 0) / Double(total)) })
    }

    package func score(_ output: String, expected: JSONValue, logprobs: [TokenLogprob]?) -> Score? {
        guard let parsed = JSONFieldsScorer.extractJSON(output) else {
            return .pass(false, detail: ["valid": false])
        }
        let paths = self.fields
        if paths.isEmpty {
            return .pass(JSONFieldsScorer.equal(parsed, expected), detail: ["valid": true])
        }
        var fields: [String: JSONValue] = [:]
        for path in paths {
            let got = parsed.value(atPath: path)
            let want = expected.value(atPath: path)
            fields[path] = .bool(got != nil && want != nil && JSONFieldsScorer.equal(got!, want!))
        }
        let allEqual = fields.values.allSatisfy { $0 == .bool(true) }
        return .pass(allEqual, detail: ["valid": true, "fields": .object(fields)])
    }

    /// The first JSON object or array in `text` (models often wrap it in prose or code fences).
    package static func extractJSON(_ text: String) -> JSONValue? {
        if let whole = try? JSONValue(parsing: text.trimmingWhitespace()),
            whole.objectValue != nil || whole.arrayValue != nil
        {
            return whole
        }
        let bytes = Array(text.utf8)
        for start in bytes.indices where bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") {
            var depth = 0
            var inString = false
            var escaped = false
            for index in start..<bytes.count {
                let b = bytes[index]
                if inString {
                    if escaped {
                        escaped = false
                    } else if b == UInt8(ascii: "\\") {
                        escaped = true
                    } else if b == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        if let value = try? JSONValue(parsing: bytes[start...index]) { return value }
                        break
                    }
                default: break
                }
                if depth == 0 { break }
            }
        }
        return nil
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return TextNormalizer.normalize(x) == TextNormalizer.normalize(y)
        case (.number(let x), .number(let y)): return abs(x - y) < 1e-9
        case (.string(let x), .number(let y)), (.number(let y), .string(let x)):
            return Double(x.trimmingWhitespace()).map { abs($0 - y) < 1e-9 } ?? false
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            return x.keys.sorted() == y.keys.sorted() && x.allSatisfy { key, value in equal(value, y[key]!) }
        default: return a == b
        }
    }
}
