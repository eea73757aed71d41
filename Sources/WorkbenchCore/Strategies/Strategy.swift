/// How a prompt is filled beyond the case itself: few-shot examples from the train split
/// and retrieved passages from a corpus. Zero-shot is the default.
package struct Strategy: Sendable, Hashable {
    package enum Selection: String, Sendable, Hashable, CaseIterable, Codable {
        /// The same k examples for every case, drawn at random (seeded).
        case random
        /// For each case, the k train cases most like it (BM25 over their inputs).
        case similar
    }

    package var shots: Int
    package var selection: Selection
    /// Which random draw (0, 1, 2, …): each draw is a different seeded set of examples.
    package var draw: Int
    /// The corpus whose passages fill `{{context}}`, if any.
    package var corpus: String?
    package var passages: Int

    package init(
        shots: Int = 0, selection: Selection = .random, draw: Int = 0, corpus: String? = nil, passages: Int = 3
    ) {
        self.shots = shots
        self.selection = selection
        self.draw = draw
        self.corpus = corpus
        self.passages = passages
    }

    package static let zeroShot = Strategy()

    /// A short name for tables: `zero-shot`, `4-shot random #2`, `2-shot similar + rag(3)`.
    package var label: String {
        var parts: [String] = []
        if shots == 0 {
            parts.append("zero-shot")
        } else {
            parts.append(
                "\(shots)-shot \(selection.rawValue)" + (selection == .random && draw > 0 ? " #\(draw + 1)" : ""))
        }
        if let corpus { parts.append("rag \(corpus)×\(passages)") }
        return parts.joined(separator: " + ")
    }

    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "shots": .number(Double(shots)), "selection": .string(selection.rawValue), "draw": .number(Double(draw)),
        ]
        if let corpus {
            object["corpus"] = .string(corpus)
            object["passages"] = .number(Double(passages))
        }
        return .object(object)
    }

    package init(json: JSONValue) {
        self.init(
            shots: json["shots"]?.intValue ?? 0,
            selection: json["selection"]?.stringValue.flatMap(Selection.init(rawValue:)) ?? .random,
            draw: json["draw"]?.intValue ?? 0, corpus: json["corpus"]?.stringValue,
            passages: json["passages"]?.intValue ?? 3)
    }
}

/// Few-shot examples: choosing them and writing them into the `{{examples}}` slot.
package enum FewShot {
    /// `k` cases from `pool`, chosen by a shuffle seeded with `seed` (the same seed, the same
    /// examples), kept in the pool's order so the prompt reads naturally.
    package static func random(from pool: [EvalCase], k: Int, seed: UInt64) -> [EvalCase] {
        guard k < pool.count else { return pool }
        var generator = SeededGenerator(seed: seed)
        var indices = Array(pool.indices)
        for i in 0..<k {
            let j = i + Int(generator.next() % UInt64(indices.count - i))
            indices.swapAt(i, j)
        }
        return indices.prefix(k).sorted().map { pool[$0] }
    }

    /// The examples written with `format` (its `{{expected}}` is the case's answer), each
    /// followed by `separator`, so the case after them is set apart like the examples are from
    /// each other. The slot's own line break follows, so one trailing line break is dropped.
    package static func render(_ examples: [EvalCase], format: TemplateBody, separator: String = "\n\n") throws
        -> String
    {
        guard !examples.isEmpty else { return "" }
        var out = ""
        for example in examples {
            var values = example.textVars
            values["expected"] = example.expected.text
            out += try format.render(values) + separator
        }
        if out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    /// Passages written for `{{context}}`: each with its title, a blank line between.
    package static func renderContext(_ passages: [Passage]) -> String {
        passages.map { "[\($0.title)]\n\($0.body)" }.joined(separator: "\n\n")
    }
}
