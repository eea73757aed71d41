import Testing
import WorkbenchCore

struct TemplateBodyTests {
    @Test func rendersVariablesAndKeepsTheRestAsWritten() throws {
        let body = try TemplateBody("Review: {{text}}\nSentiment: {{ label }}!")
        #expect(try body.render(["text": "Great", "label": "positive"]) == "Review: Great\nSentiment: positive!")
        #expect(body.variables == ["text", "label"])
    }

    @Test(arguments: [
        ("次の問い合わせを分類してください。\n{{text}}\n分類:", ["text": "配送はいつですか？"], "次の問い合わせを分類してください。\n配送はいつですか？\n分類:"),
        ("{{絵文字}} → {{text}} 🎉", ["絵文字": "👍🏽", "text": "ｆｕｌｌ ｗｉｄｔｈ"], "👍🏽 → ｆｕｌｌ ｗｉｄｔｈ 🎉"),
        ("{{a}}{{b}}", ["a": "{{b}}", "b": "x"], "{{b}}x"),
    ])
    func rendersJapaneseEmojiAndValuesThatLookLikePlaceholders(
        source: String, values: [String: String], expected: String
    ) throws {
        #expect(try TemplateBody(source).render(values) == expected)
    }

    @Test func anEmptySlotAloneOnItsLineTakesTheLineWithIt() throws {
        let body = try TemplateBody("Classify.\n\n{{examples}}\nReview: {{text}}\nSentiment:")
        #expect(try body.render(["text": "ok"]) == "Classify.\n\nReview: ok\nSentiment:")
        #expect(
            try body.render(["text": "ok", "examples": "Review: a\nSentiment: b\n"])
                == "Classify.\n\nReview: a\nSentiment: b\n\nReview: ok\nSentiment:")
    }

    @Test func anEmptySlotInsideALineLeavesTheLine() throws {
        let body = try TemplateBody("Context: {{context}}\nQ: {{q}}")
        #expect(try body.render(["q": "why"]) == "Context: \nQ: why")
        let afterVariable = try TemplateBody("Review: {{text}} {{context}}\nAnswer:")
        #expect(try afterVariable.render(["text": "good"]) == "Review: good \nAnswer:")
    }

    @Test func anUndefinedVariableNamesItsLine() throws {
        let body = try TemplateBody("line one\nline two {{missing}}", firstLine: 5)
        let error = #expect(throws: InputError.self) { try body.render([:]) }
        #expect(error?.line == 6)
        #expect(error?.message.description.contains("{{missing}}") == true)
    }

    @Test(arguments: [
        ("hello {{name", 1, "not closed"),
        ("a\nb {{na\nme}}", 2, "not closed on its line"),
        ("x {{}} y", 1, "is empty"),
        ("x {{bad name}} y", 1, "contains ' '"),
        ("x {{a{{b}} y", 1, "not closed on its line"),
    ])
    func rejectsMalformedPlaceholdersWithTheirLine(source: String, line: Int, fragment: String) {
        let error = #expect(throws: InputError.self) { try TemplateBody(source) }
        #expect(error?.line == line)
        #expect(error?.message.description.contains(fragment) == true, "\(String(describing: error))")
    }
}

struct PromptFileTests {
    static let sample = """
        ---
        description: Ask, then answer.
        evalset: sentiment
        stop: ["\\n", "###"]
        max_tokens: 4
        temperature: 0
        example_format: "Review: {{text}}\\nSentiment: {{expected}}"
        ---
        {{examples}}
        Review: {{text}}
        Sentiment:

        """

    @Test func parsesFrontMatterAndBody() throws {
        let file = try PromptFile(parsing: PromptFileTests.sample)
        #expect(file.settings.evalset == "sentiment")
        #expect(file.settings.stop == ["\n", "###"])
        #expect(file.settings.maxTokens == 4)
        #expect(file.settings.temperature == 0)
        #expect(file.settings.exampleFormat == "Review: {{text}}\nSentiment: {{expected}}")
        #expect(file.body.source == "{{examples}}\nReview: {{text}}\nSentiment:")
        #expect(file.body.line(of: "text") == 10)
    }

    @Test func theCanonicalTextIsTheSameWhateverTheKeyOrder() throws {
        let reordered = """
            ---
            temperature: 0
            max_tokens: 4
            example_format: "Review: {{text}}\\nSentiment: {{expected}}"
            evalset: sentiment
            stop: ["\\n", "###"]
            description: Ask, then answer.
            ---
            {{examples}}
            Review: {{text}}
            Sentiment:
            """
        let a = try PromptFile(parsing: PromptFileTests.sample)
        let b = try PromptFile(parsing: reordered)
        #expect(a.canonicalText == b.canonicalText)
        #expect(a.contentHash == b.contentHash)
        #expect(try PromptFile(parsing: a.canonicalText) == a)
    }

    /// A line break, tab or leading quote with a combining mark after it is still a line break,
    /// tab or quote in the file: such a value is written as JSON and reads back as it was.
    @Test(arguments: ["Review: {{text}}\n\u{301}Answer: {{expected}}", "\"\u{301}quoted", "[\u{301}", "a\t\u{301}b"])
    func aFrontMatterValueWithAMarkedSpecialCharacterReadsBackFromTheCanonicalText(_ value: String) throws {
        var file = try PromptFile(parsing: "Review: {{text}}\nAnswer:")
        file.settings.description = value
        let again = try PromptFile(parsing: file.canonicalText)
        #expect(Array(again.settings.description.unicodeScalars) == Array(value.unicodeScalars))
    }

    @Test func windowsLineEndingsReadLikeUnixOnes() throws {
        let unix = try PromptFile(parsing: PromptFileTests.sample)
        let windows = try PromptFile(parsing: PromptFileTests.sample.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(windows == unix)
        #expect(windows.settings.maxTokens == 4)
    }

    @Test func aFileWithoutFrontMatterIsAllBody() throws {
        let file = try PromptFile(parsing: "Translate to French: {{text}}\n")
        #expect(file.body.source == "Translate to French: {{text}}")
        #expect(file.settings == PromptSettings())
    }

    @Test(arguments: [
        ("---\nmax_tokens 4\n---\nbody", 2, nil, "is not 'key: value'"),
        ("---\nmax_token: 4\n---\nbody", 2, nil, "did you mean max_tokens?"),
        ("---\nmax_tokens: many\n---\nbody", 2, "max_tokens", "expected a whole number"),
        ("---\ntemperature: -1\n---\nbody", 2, "temperature", "between 0 and 5"),
        ("---\nmode: shout\n---\nbody", 2, "mode", "use completion or chat"),
        ("---\nstop: [\"a\", 3]\n---\nbody", 2, "stop", "list of texts"),
        ("---\nstop: [\"a\"\n---\nbody", 2, "stop", "not valid JSON"),
        ("---\nevalset: ../etc\n---\nbody", 2, "evalset", "must start with a letter or digit"),
        ("---\nevalset: it's\n---\nbody", 2, "evalset", "contains '''"),
        ("---\nmax_tokens: 4\nmax_tokens: 5\n---\nbody", 3, nil, "given twice"),
        ("---\nmax_tokens: 4\nbody", 3, nil, "close the front matter"),
        ("---\nmax_tokens: 4\n", 1, nil, "never closed"),
        ("---\nmax_tokens: 4\n---\n\n", 4, nil, "body is empty"),
    ])
    func rejectsBadFrontMatterWithLineAndField(text: String, line: Int, field: String?, fragment: String) {
        let error = #expect(throws: InputError.self) { try PromptFile(parsing: text) }
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.field == field)
        #expect(error?.message.description.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func summarizesWhatChanged() throws {
        let old = try PromptFile(parsing: "---\nmax_tokens: 4\n---\nA {{x}}\nB")
        let new = try PromptFile(parsing: "---\nmax_tokens: 8\nstop: [\"\\n\"]\n---\nA {{x}}\nC")
        #expect(new.changes(from: old) == "max_tokens: 4 → 8; stop: (unset) → [\"\\n\"]; body: +1 −1 lines")
        #expect(new.changes(from: new) == "no change")
        let format = try PromptFile(
            parsing: "---\nexample_format: \"Review: {{text}}\\nQuestion: Is it good?\\nAnswer: {{expected}}\"\n---\nx")
        var longer = format
        longer.settings.exampleFormat = "Review: {{text}}\nQuestion: Is it good?\nAnswer (yes or no): {{expected}}"
        #expect(
            longer.changes(from: format)
                == "example_format: …\\nAnswer: {{expected}}\" → …\\nAnswer (yes or no): {{expected}}\"")
    }
}

struct RevisionReferenceTests {
    @Test(arguments: [
        ("sentiment", "sentiment", nil, nil),
        ("sentiment/question", "sentiment", "question", nil),
        ("sentiment/question@12", "sentiment", "question", 12),
        ("問い合わせ/丁寧@2", "問い合わせ", "丁寧", 2),
    ])
    func parses(text: String, template: String, variant: String?, number: Int?) throws {
        let reference = try RevisionReference(parsing: text)
        #expect(reference == RevisionReference(template: template, variant: variant, number: number))
        #expect(reference.description == text)
    }

    @Test(arguments: ["a/b/c", "/b", "a/", "a/b@", "a/b@0", "a/b@x", "a@2"])
    func rejects(text: String) {
        #expect(throws: Refusal.self) { try RevisionReference(parsing: text) }
    }
}

struct NamesTests {
    @Test(arguments: ["sentiment", "ja-inquiry", "v2.1", "問い合わせ", "q_a", "Ünïcode"])
    func accepts(name: String) {
        #expect(Names.problem(with: name) == nil)
    }

    @Test(arguments: [
        "", "it's", "a\"b", "a/b", "..", "-leading", "x; DROP TABLE templates; --", "with space", "a@2",
        String(repeating: "x", count: 65),
    ])
    func rejects(name: String) {
        #expect(Names.problem(with: name) != nil)
    }
}
