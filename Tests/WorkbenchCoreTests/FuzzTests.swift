import Foundation
import Testing

@testable import WorkbenchCore

/// A seeded random-input harness for the parsers of files users (and servers) write: valid
/// samples mutated by flipping, inserting, deleting and splicing bytes and known-awkward tokens.
/// Every input must parse or throw, never trap, and what parses must read back unchanged from
/// what pwb writes of it (else a stored revision or setting could wedge). A short run is part of
/// the tests; `PWB_FUZZ_SECONDS=600 swift test --filter FuzzTests` runs each target that long.
@Suite(.serialized) struct FuzzTests {
    /// SplitMix64: small, seeded, the same sequence on every machine.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let tokens: [[UInt8]] =
        [
            "{", "}", "[", "]", "\"", "\\", ":", ",", "\n", "\r\n", "---\n", "{{", "}}", "1e999", "-1e400", "1e15",
            "9999999999999999999", "-0", "0.", "\\u0000", "\\ud800", "\u{0}", "\u{1B}[2J", "null", "true", "日本語",
            "{{examples}}", "{{context}}", "max_tokens: ", "stop: ", "\"\\n\"", "=SUM(A1)", "'", "\t", "𝄞",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80]]

    /// One mutation of `input`.
    static func mutate(_ input: [UInt8], _ rng: inout Generator, corpus: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...8, using: &rng))
                bytes.removeSubrange(min(position, end)..<end)
            case 3: bytes = Array(bytes.prefix(position))
            case 4:
                let other = corpus.randomElement(using: &rng)!
                let cut = Int.random(in: 0...other.count, using: &rng)
                bytes = Array(bytes.prefix(position)) + other[cut...]
            default:
                let token = tokens.randomElement(using: &rng)!
                bytes.insert(
                    contentsOf: Array(repeating: token, count: Int.random(in: 2...120, using: &rng)).joined(),
                    at: position)
            }
        }
        return bytes
    }

    /// Runs `check` on mutations of `seeds` for `iterations` (or `PWB_FUZZ_SECONDS`); returns how many ran.
    @discardableResult
    static func fuzz(_ seeds: [String], seed: UInt64, iterations: Int, _ check: ([UInt8]) throws -> Void) rethrows
        -> Int
    {
        var rng = Generator(state: seed)
        let corpus = seeds.map { Array($0.utf8) }
        let seconds = ProcessInfo.processInfo.environment["PWB_FUZZ_SECONDS"].flatMap(Double.init)
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        var count = 0
        while deadline.map({ Date() < $0 }) ?? (count < iterations) {
            try check(mutate(corpus.randomElement(using: &rng)!, &rng, corpus: corpus))
            count += 1
        }
        if seconds != nil { print("fuzz seed \(seed): \(count) executions, 0 crashes") }
        return count
    }

    static let jsonSeeds = [
        #"{"vars": {"text": "Loved it."}, "expected": "positive", "split": "dev", "tags": ["a"]}"#,
        #"[1, -2.5e3, true, null, "x\u00e9\n", {"a": [{}]}]"#, #"{"a": {"b": {"c": [0.1, 1e300]}}}"#,
    ]

    @Test func jsonParsesOrThrowsAndReadsBackWhatItWrites() throws {
        let ran = try Self.fuzz(Self.jsonSeeds, seed: 1, iterations: 400) { bytes in
            guard let value = try? JSONValue(parsing: bytes) else { return }
            let back = try JSONValue(parsing: value.serialized())
            #expect(back == value, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(ran > 0)
    }

    static let promptSeeds = [
        "---\ndescription: The review\nevalset: sentiment\nmax_tokens: 3\nstop: [\"\\n\"]\ntemperature: 0\ntop_p: 0.9\ntop_k: 40\nexample_format: \"Review: {{text}}\\nAnswer: {{expected}}\"\n---\n{{examples}}\nReview: {{text}}\nAnswer:\n",
        "---\nmode: chat\nsystem: \"Be brief.\"\nexample_separator: \"\\n###\\n\"\n---\nTranslate {{text}} with {{context}}\n",
        "Plain body {{x}} without front matter\n",
    ]

    @Test func promptFilesParseOrThrowAndReadBackFromTheirCanonicalText() throws {
        try Self.fuzz(Self.promptSeeds, seed: 2, iterations: 300) { bytes in
            guard let file = try? PromptFile(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
            // The same settings and body (variables' line numbers move with the front matter).
            let again = try PromptFile(parsing: file.canonicalText)
            #expect(again.settings == file.settings && again.body.source == file.body.source)
            #expect(again.canonicalText == file.canonicalText, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func evalSetsInJSONLAndCSVParseOrThrow() {
        let jsonl = [
            Self.jsonSeeds[0] + "\n" + #"{"id": "b", "vars": {"text": "x"}, "expected": {"n": 1}, "split": "train"}"#
        ]
        Self.fuzz(jsonl, seed: 3, iterations: 300) { bytes in
            _ = try? EvalSetParser.parseJSONL(String(decoding: bytes, as: UTF8.self))
        }
        let csv = [
            "id,text,expected,split,tags\na,\"Loved, \"\"it\"\"\",positive,dev,x;y\nb,'=1+1,\"{\"\"n\"\": 1}\",train,\n"
        ]
        Self.fuzz(csv, seed: 4, iterations: 300) { bytes in
            _ = try? EvalSetParser.parseCSV(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func evalSetSettingsParseOrThrowAndReadBackWhatTheyWrite() throws {
        let seeds = [
            #"{"description": "d", "scorers": [{"type": "label", "labels": ["a", "b"]}, "exact", {"type": "numeric", "tolerance": 0.5}], "input": "text", "corpus": "c"}"#,
            #"{"scorers": [{"type": "regex", "pattern": "^a+$"}, {"type": "json", "fields": ["a.b"]}, {"type": "rubric", "rubric": "r"}]}"#,
        ]
        try Self.fuzz(seeds, seed: 5, iterations: 300) { bytes in
            guard let settings = try? EvalSetSettings(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
            let back = try EvalSetSettings(parsing: settings.json.serialized())
            #expect(back == settings, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
