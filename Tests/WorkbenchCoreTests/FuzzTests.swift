import Foundation
import Testing

@testable import ModelRuntime
@testable import WorkbenchCLI
@testable import WorkbenchCore

/// A seeded random-input harness for the parsers of files users (and servers) write: valid
/// samples mutated by flipping, inserting, deleting and splicing bytes and known-awkward tokens.
/// Every input must parse or throw, never trap, and what parses must read back unchanged from
/// what pwb writes of it (else a stored revision or setting could wedge). The same goes for what
/// a server answers about itself, what an option is given and what a name is spelled as: each
/// is refused or lands inside its stated range. A short run is part of the tests;
/// `PWB_FUZZ_SECONDS=600 swift test --filter FuzzTests` runs each target that long.
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
            // Numbers at and past the bounds of what pwb counts, and marks that join what they follow.
            "0", "-1", "1e12", "4294967296", "9223372036854775807", "9223372036854775808", "1e-320", "0x7f", "٣",
            "\u{301}", "\u{3099}", "\u{FEFF}", "\u{200B}",
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

    /// The same for a check that awaits (a provider's parsing behind its transport).
    @discardableResult
    static func fuzz(_ seeds: [String], seed: UInt64, iterations: Int, _ check: ([UInt8]) async throws -> Void)
        async rethrows -> Int
    {
        var rng = Generator(state: seed)
        let corpus = seeds.map { Array($0.utf8) }
        let seconds = ProcessInfo.processInfo.environment["PWB_FUZZ_SECONDS"].flatMap(Double.init)
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        var count = 0
        while deadline.map({ Date() < $0 }) ?? (count < iterations) {
            try await check(mutate(corpus.randomElement(using: &rng)!, &rng, corpus: corpus))
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

    /// Answers every request with the same body: a server as a fuzzed input.
    struct CannedServer: HTTPTransport {
        var body: [UInt8]
        func send(_ request: HTTPRequest, timeout: Double) async throws -> HTTPResponse {
            HTTPResponse(status: 200, headers: [:], body: body)
        }
    }

    static let serverSeeds = [
        #"{"default_generation_settings": {"n_ctx": 4096}, "total_slots": 2, "model_path": "/m/model.gguf"}"#,
        #"{"n_ctx": 8192, "total_slots": 4}"#,
        #"{"data": [{"id": "m", "max_model_len": 32768}, {"id": "n", "context_length": 4096}]}"#,
        #"{"model_info": {"gemma3.context_length": 32768}, "models": [{"name": "m", "digest": "sha256:00"}]}"#,
        #"{"content": " ok", "tokens_evaluated": 12, "tokens_predicted": 1, "stop_type": "eos", "timings": {"prompt_ms": 1.5}}"#,
        #"{"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#,
    ]

    /// What a server says about itself and its answers: refused, or inside the ranges pwb sizes
    /// things by (slots, context, token counts), for every provider.
    @Test func serverNumbersAreInRangeOrRefused() async throws {
        let endpoint = URL(string: "http://127.0.0.1:9")!
        let request = CompletionRequest(prompt: .text("hello"), maxTokens: 2)
        try await Self.fuzz(Self.serverSeeds, seed: 6, iterations: 300) { bytes in
            let http = CannedServer(body: bytes)
            let providers: [any ModelProvider] = [
                LlamaCppProvider(endpoint: endpoint, http: http),
                OpenAIProvider(endpoint: endpoint, model: "m", apiKey: nil, http: http),
                OllamaProvider(endpoint: endpoint, model: "m", http: http),
            ]
            for provider in providers {
                let client = ModelClient(name: "fuzz", providers: [provider], retry: RetryPolicy(attempts: 1))
                if let properties = try? await client.properties() {
                    #expect(properties.slots.map(ServerProperties.slotRange.contains) ?? true)
                    #expect(properties.contextSize.map(ServerProperties.contextRange.contains) ?? true)
                }
                if let completion = try? await client.complete(request) {
                    for count in [completion.promptTokens, completion.completionTokens].compactMap({ $0 }) {
                        #expect((0...ServerProperties.contextRange.upperBound).contains(count))
                    }
                }
            }
        }
    }

    static let configurationSeeds = [
        #"{"default": "v", "timeout_seconds": 120, "retries": 3, "models": {"v": {"provider": "openai", "endpoints": ["https://gpu1:8000/v1", "http://127.0.0.1:8000/v1"], "model": "m", "api_key_env": "VLLM_API_KEY", "timeout_seconds": 30, "retries": 0}}}"#,
        #"{"models": {"o": {"provider": "ollama", "endpoint": "http://[::1]:11434", "model": "gemma3:270m"}}}"#,
    ]

    /// `.pwb/config.json`: refused naming a field, or every number inside its range and a key
    /// bound only for https or this machine.
    @Test func configurationsAreInRangeOrRefused() throws {
        try Self.fuzz(Self.configurationSeeds, seed: 7, iterations: 300) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let configuration = try? RuntimeConfiguration(parsing: text, path: "config.json", environment: [:])
            else { return }
            for model in configuration.models.values {
                #expect(model.timeoutSeconds > 0 && RuntimeConfiguration.timeoutRange.contains(model.timeoutSeconds))
                #expect(RuntimeConfiguration.retryRange.contains(model.retries))
                let client = try? model.client(http: HTTPClient(), environment: ["VLLM_API_KEY": "k"])
                if client != nil && model.apiKeyEnvironment != nil {
                    #expect(model.endpoints.allSatisfy(RuntimeConfiguration.keepsSecrets), "\(text)")
                }
            }
        }
    }

    /// Every number option of every command: refused, or a value inside the range its help states.
    @MainActor @Test func optionValuesAreInTheirStatedRangeOrRefused() throws {
        let seeds = ["1", "1000", "0", "-5", "0.5", "20,40,80", "4096", "1e6", "9223372036854775807", "65535"]
        let options = Commands.all.flatMap(\.options).filter { $0.range != nil }
        #expect(options.count > 20)
        try Self.fuzz(seeds, seed: 8, iterations: 200) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            for option in options {
                guard let value = try? option.read(text) else { continue }
                let bounds = try #require(Self.bounds(of: option.range!), "--\(option.name): \(option.range!)")
                let numbers: [Double] =
                    switch value {
                    case let number as Int: [Double(number)]
                    case let number as Double: [number]
                    case let numbers as [Int]: numbers.map(Double.init)
                    default: []
                    }
                #expect(!numbers.isEmpty && numbers.allSatisfy(bounds.contains), "--\(option.name) \(text)")
            }
        }
    }

    /// `1 to 1000` or `1 or more`, as help states a range.
    static func bounds(of range: String) -> ClosedRange<Double>? {
        let words = range.split(separator: " ")
        if words.count == 3, words[1] == "to", let low = Double(words[0]), let high = Double(words[2]) {
            return low...high
        }
        if words.count == 3, words[1] == "or", let low = Double(words[0]) { return low...Double(Int.max) }
        return nil
    }

    /// Names as folders and files spell them: checking never traps, and the stored spelling is
    /// one fixed point that means the same text.
    @Test func namesAreCheckedAndComposedWithoutTrapping() {
        let seeds = ["がくせい", "か\u{3099}くせい", "sentiment-v2", "ja_inquiry.3", "Cafe\u{301}", "handbook"]
        Self.fuzz(seeds, seed: 9, iterations: 400) { bytes in
            let name = String(decoding: bytes, as: UTF8.self)
            _ = Names.problem(with: name)
            let stored = Names.canonical(name)
            #expect(Names.canonical(stored) == stored)
            #expect(stored == name, "composing keeps what the text means")
        }
    }

    /// What the CSV reader reads, quoted back cell by cell, reads back the same, scalar for scalar.
    @Test func csvCellsQuotedBackReadTheSame() throws {
        let seeds = ["id,text,expected\na,\"x,\u{301}y\",\"q\"\"\u{301}\"\n", "a,b\r\nc,\"d\ne\"\r\n"]
        try Self.fuzz(seeds, seed: 10, iterations: 400) { bytes in
            guard let records = try? CSV.parse(String(decoding: bytes, as: UTF8.self)) else { return }
            let written = records.map { $0.fields.map(Self.quoted).joined(separator: ",") + "\n" }.joined()
            let again = try CSV.parse(written)
            #expect(
                again.map { $0.fields.map { Array($0.unicodeScalars) } }
                    == records.map { $0.fields.map { Array($0.unicodeScalars) } })
        }
    }

    /// RFC 4180 quoting by scalar, as the exports write it (without their spreadsheet guard).
    static func quoted(_ cell: String) -> String {
        guard
            cell.unicodeScalars.contains(where: {
                $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\u{FEFF}"
            })
        else { return cell }
        var text = String.UnicodeScalarView(["\""])
        for scalar in cell.unicodeScalars {
            text.append(scalar)
            if scalar == "\"" { text.append("\"") }
        }
        text.append("\"")
        return String(text)
    }
}
