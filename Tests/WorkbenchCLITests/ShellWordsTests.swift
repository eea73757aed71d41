import Testing

@testable import WorkbenchCLI

struct ShellWordsTests {
    @Test(arguments: [
        ("use sentiment/question", ["use", "sentiment/question"]),
        ("set body \"Review: {{text}}\\nLabel:\"", ["set", "body", "Review: {{text}}\nLabel:"]),
        ("try text='it''s \"fine\"'", ["try", "text=its \"fine\""]),
        ("try text=日本語\\ です", ["try", "text=日本語 です"]),
        ("set stop \"\\n\" '###'", ["set", "stop", "\n", "###"]),
        ("  spaced   out  ", ["spaced", "out"]),
        ("empty \"\" word", ["empty", "", "word"]),
    ])
    func splitsLikeAShell(line: String, words: [String]) throws {
        #expect(try ShellWords.split(line) == words)
    }

    @Test(arguments: ["set body \"unclosed", "it's", "trailing \\"])
    func reportsUnbalancedQuotes(line: String) {
        #expect(throws: UsageError.self) { try ShellWords.split(line) }
    }
}
