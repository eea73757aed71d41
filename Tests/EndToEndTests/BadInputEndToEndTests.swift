import Foundation
import Testing

/// Every kind of bad file gets one sentence naming the file (and line, and field), exit code 4,
/// and leaves the store exactly as it was: the import is one transaction.
struct BadInputEndToEndTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var file: String
        var bytes: [UInt8]
        var message: String

        init(_ name: String, _ file: String, _ text: String, _ message: String) {
            self.init(name, file, bytes: Array(text.utf8), message)
        }

        init(_ name: String, _ file: String, bytes: [UInt8], _ message: String) {
            self.name = name
            self.file = file
            self.bytes = bytes
            self.message = message
        }

        var description: String { name }
    }

    static let cases: [Case] = [
        Case(
            "malformed front matter line", "templates/sentiment/bad.prompt",
            "---\nmax_tokens 4\n---\nReview: {{text}}\n",
            "templates/sentiment/bad.prompt:2: front matter line \"max_tokens 4\" is not 'key: value'"),
        Case(
            "unknown front matter key", "templates/sentiment/bad.prompt", "---\ntemprature: 0\n---\nReview: {{text}}\n",
            "templates/sentiment/bad.prompt:2: unknown front matter key \"temprature\" (did you mean temperature?)"),
        Case(
            "a variable no case defines", "templates/sentiment/bad.prompt",
            "---\nevalset: sentiment\n---\nReview: {{text}}\nStars: {{stars}}\n",
            "templates/sentiment/bad.prompt:5: {{stars}}: no case of eval set sentiment defines it"),
        Case(
            "an unclosed placeholder", "templates/sentiment/bad.prompt",
            "---\nevalset: sentiment\n---\n\nReview: {{text\n",
            "templates/sentiment/bad.prompt:5: '{{' is not closed"),
        Case(
            "a JSONL line that is not JSON", "evalsets/bad.jsonl",
            "{\"vars\": {\"t\": \"a\"}, \"expected\": \"x\"}\n{\"vars\": {\"t\": \"b\"}, \"expected\": \"y\",}\n",
            "evalsets/bad.jsonl:2: is not JSON: expected a quoted key, found '}' at column 38"),
        Case(
            "a case without expected", "evalsets/bad.jsonl", "{\"id\": \"c1\", \"vars\": {\"t\": \"a\"}}\n",
            "evalsets/bad.jsonl:1: field \"expected\": is missing"),
        Case(
            "a duplicate case id", "evalsets/bad.jsonl",
            "{\"id\": \"c1\", \"vars\": {\"t\": \"a\"}, \"expected\": \"x\"}\n{\"id\": \"c1\", \"vars\": {\"t\": \"b\"}, \"expected\": \"y\"}\n",
            "evalsets/bad.jsonl:2: field \"id\": \"c1\" is already used on line 1"),
        Case(
            "a file that is not UTF-8", "evalsets/bad.jsonl",
            bytes: Array("{\"vars\": {\"t\": \"caf".utf8) + [0xE9] + Array("\"}, \"expected\": \"x\"}\n".utf8),
            "evalsets/bad.jsonl:1: is not UTF-8 text"),
        Case("an empty eval set", "evalsets/bad.jsonl", "", "evalsets/bad.jsonl: is empty"),
        Case("an empty prompt", "templates/sentiment/bad.prompt", "\n\n", "templates/sentiment/bad.prompt: is empty"),
        Case(
            "a 50 MB eval set", "evalsets/bad.jsonl", bytes: [UInt8](repeating: 0x20, count: 50 << 20),
            "evalsets/bad.jsonl: is 50 MiB; an eval set may be at most 32 MiB"),
        Case(
            "a 50 MB prompt", "templates/sentiment/bad.prompt", bytes: [UInt8](repeating: 0x41, count: 50 << 20),
            "templates/sentiment/bad.prompt: is 50 MiB; a prompt file may be at most 1 MiB"),
        Case(
            "a template name with a quote", "templates/it's/v.prompt", "Hello {{text}}\n",
            "the template name (the folder of templates/it's/v.prompt) \"it's\" contains '''"),
        Case(
            "an eval set name with SQL", "evalsets/x;DROP TABLE cases;--.jsonl",
            "{\"vars\": {\"t\": \"a\"}, \"expected\": \"x\"}\n",
            "the eval set name \"x;DROP TABLE cases;--\" contains ';'"),
        Case(
            "an eval set name with a slash in front matter", "templates/sentiment/bad.prompt",
            "---\nevalset: ../sentiment\n---\nReview: {{text}}\n",
            "templates/sentiment/bad.prompt:2: field \"evalset\": the eval set name \"../sentiment\" must start with a letter or digit"
        ),
        Case(
            "settings naming an unknown scorer", "evalsets/sentiment.json", "{\"scorers\": [\"lable\"]}",
            "evalsets/sentiment.json: field \"scorers[0].type\": \"lable\" is not a scorer (did you mean label?)"),
    ]

    /// Everything the store holds, as the listings show it.
    func snapshot(_ work: WorkFolder) async throws -> [String] {
        [
            try await work.pwb("template", "list", "--json").stdout,
            try await work.pwb("evalset", "list", "--json").stdout,
            try await work.pwb("evalset", "show", "sentiment", "--limit", "0", "--json").stdout,
            try await work.pwb("corpus", "list", "--json").stdout,
            try await work.pwb("template", "history", "sentiment/instruction", "--json").stdout,
        ]
    }

    @Test(arguments: cases)
    func badFilesExitWith4AndChangeNothing(_ bad: Case) async throws {
        let work = try WorkFolder(copyingExamples: true)
        #expect(try await work.pwb("import").status == 0)
        let before = try await snapshot(work)
        // A good change rides along: if the import were not one transaction, it would be stored.
        let good = "templates/sentiment/instruction.prompt"
        try work.write(good, try work.read(good) + "Be brief.\n")
        try work.write(bad.file, bytes: bad.bytes)

        let result = try await work.pwb("import")
        #expect(result.status == 4, "\(result)")
        #expect(result.stderr.contains(bad.message), "\(result)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result)")
        #expect(result.stdout.isEmpty)
        #expect(try await snapshot(work) == before)
    }
}
