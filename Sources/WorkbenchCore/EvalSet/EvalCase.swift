/// Which part of an eval set a case belongs to: few-shot examples and training data come from
/// `train`, scores from `dev`, and `test` is held out for a last honest check.
package enum Split: String, Sendable, Hashable, CaseIterable, Comparable {
    case train
    case dev
    case test

    package static func < (a: Split, b: Split) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The split of a case that names none, from its content hash: 50% train, 40% dev,
    /// 10% test. The same content always lands in the same split, so re-imports are stable.
    package static func assigned(contentHash: String) -> Split {
        let bucket = UInt32(contentHash.prefix(8), radix: 16).map { Double($0) / 4_294_967_296.0 } ?? 0
        if bucket < 0.5 { return .train }
        if bucket < 0.9 { return .dev }
        return .test
    }
}

/// One case of an eval set: the variables a prompt is rendered with and the answer expected.
package struct EvalCase: Sendable, Hashable {
    /// The case's id within its eval set: given in the file, or derived from the content hash.
    package var id: String
    package var vars: [String: JSONValue]
    package var expected: JSONValue
    package var split: Split
    package var tags: [String]
    /// The line (JSONL) or record start (CSV) the case came from; 0 when not from a file.
    package var line: Int

    package init(
        id: String, vars: [String: JSONValue], expected: JSONValue, split: Split, tags: [String] = [], line: Int = 0
    ) {
        self.id = id
        self.vars = vars
        self.expected = expected
        self.split = split
        self.tags = tags
        self.line = line
    }

    /// The hash of what the case says (vars and expected), independent of its id and split.
    package static func contentHash(vars: [String: JSONValue], expected: JSONValue) -> String {
        SHA256.hex(JSONValue.object(["vars": .object(vars), "expected": expected]).serialized())
    }

    /// The values a template is rendered with: each var as text.
    package var textVars: [String: String] { vars.mapValues(\.text) }

    /// The text that stands for the case in retrieval and similarity search: the named input
    /// variable, else the only variable, else every variable's text in name order.
    package func inputText(inputVariable: String?) -> String {
        if let inputVariable, let value = vars[inputVariable] { return value.text }
        if vars.count == 1 { return vars.values.first!.text }
        return vars.keys.sorted().map { vars[$0]!.text }.joined(separator: "\n")
    }
}
