import Testing
import WorkbenchCore

struct EvalSetParserTests {
    @Test func parsesJSONLWithIdsSplitsAndTags() throws {
        let text = """
            {"id": "a1", "vars": {"text": "良い"}, "expected": "positive", "split": "dev", "tags": ["ja"]}

            {"id": 7, "vars": {"text": "bad", "n": 3}, "expected": {"label": "negative"}, "split": "train"}
            """
        let cases = try EvalSetParser.parseJSONL(text)
        #expect(cases.count == 2)
        #expect(
            cases[0]
                == EvalCase(id: "a1", vars: ["text": "良い"], expected: "positive", split: .dev, tags: ["ja"], line: 1))
        #expect(cases[1].id == "7")
        #expect(cases[1].line == 3)
        #expect(cases[1].expected == ["label": "negative"])
        #expect(cases[1].textVars == ["text": "bad", "n": "3"])
    }

    /// Two files saved with byte-order marks and put together (`cat a.csv b.csv`) carry a BOM
    /// at the start of a line inside: it marks the encoding, it is not part of the case.
    @Test func aByteOrderMarkStartingALineIsNotPartOfTheCase() throws {
        let csv = try EvalSetParser.parseCSV("id,text,expected\na,hello,x\n\u{FEFF}b,world,y\n")
        #expect(csv.map(\.id) == ["a", "b"])
        let jsonl = try EvalSetParser.parseJSONL(
            #"{"id": "a", "vars": {"t": "1"}, "expected": "x"}"# + "\n\u{FEFF}"
                + #"{"id": "b", "vars": {"t": "2"}, "expected": "y"}"#)
        #expect(jsonl.map(\.id) == ["a", "b"])
    }

    /// An id is typed (`--case ID`) and shown: one with an invisible character could be neither.
    @Test(arguments: [#"a\uFEFFb"#, #"zero\u200Bwidth"#, #"rtl\u200F"#, #"bell\u0007"#])
    func anIdWithAnInvisibleCharacterIsRefusedNamingTheField(_ escapedID: String) {
        let line = #"{"id": "\#(escapedID)", "vars": {"t": "1"}, "expected": "x"}"#
        let error = #expect(throws: InputError.self) { try EvalSetParser.parseJSONL(line) }
        #expect(error?.field == "id" && error?.description.contains("U+") == true, "\(String(describing: error))")
    }

    @Test func aCaseWithoutIdOrSplitGetsStableOnesFromItsContent() throws {
        let line = #"{"vars": {"text": "stable"}, "expected": "x"}"#
        let first = try EvalSetParser.parseJSONL(line)[0]
        let again = try EvalSetParser.parseJSONL("\n\n" + line)[0]
        #expect(first.id == again.id)
        #expect(first.split == again.split)
        #expect(first.id.hasPrefix("h") && first.id.count == 11)
        // The split follows the content hash: over many cases it is near 50/40/10.
        var counts: [Split: Int] = [:]
        let many = (0..<2000).map { #"{"vars": {"text": "case \#($0)"}, "expected": "x"}"# }.joined(separator: "\n")
        for evalCase in try EvalSetParser.parseJSONL(many) { counts[evalCase.split, default: 0] += 1 }
        #expect((900...1100).contains(counts[.train] ?? 0))
        #expect((700...900).contains(counts[.dev] ?? 0))
        #expect((120...280).contains(counts[.test] ?? 0))
    }

    @Test(arguments: [
        (#"{"vars": {"t": "a"}, "expected": "x"}"# + "\n{not json}", 2, nil, "is not JSON"),
        (#"{"vars": {"t": "a"}}"#, 1, "expected", "is missing"),
        (#"{"vars": {"t": "a"}, "expected": null}"#, 1, "expected", "is missing"),
        (#"{"expected": "x"}"#, 1, "vars", "is missing"),
        (#"{"vars": ["a"], "expected": "x"}"#, 1, "vars", "must be an object"),
        (#"{"vars": {"t": {"deep": 1}}, "expected": "x"}"#, 1, "vars.t", "must be text"),
        (#"{"vars": {"t": "a"}, "expected": "x", "split": "validation"}"#, 1, "split", "use train, dev or test"),
        (#"{"vars": {"t": "a"}, "expected": "x", "spilt": "dev"}"#, 1, "spilt", "did you mean \"split\"?"),
        (
            #"{"id": "a", "vars": {"t": "a"}, "expected": "x"}"# + "\n"
                + #"{"id": "a", "vars": {"t": "b"}, "expected": "y"}"#, 2, "id", "already used on line 1"
        ),
        (
            #"{"vars": {"t": "a"}, "expected": "x"}"# + "\n" + #"{"vars": {"t": "a"}, "expected": "x"}"#, 2, nil,
            "repeats the case on line 1"
        ),
        (#"["not", "an", "object"]"#, 1, nil, "must be a JSON object"),
        ("\n  \n", nil, nil, "has no cases"),
    ])
    func rejectsBadCasesNamingLineAndField(text: String, line: Int?, field: String?, fragment: String) {
        let error = #expect(throws: InputError.self) { try EvalSetParser.parseJSONL(text) }
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.message.description.contains(fragment) == true, "\(String(describing: error))")
    }

    @Test func parsesCSVWithQuotesCommasAndLineBreaks() throws {
        let text = #"""
            id,text,expected,split,tags
            c1,"Hello, ""world""",greeting,dev,en;short
            c2,"two
            lines",other,train,
            c3,日本語,"{""a"": 1}",test,
            """#
        let cases = try EvalSetParser.parseCSV(text)
        #expect(cases.map(\.id) == ["c1", "c2", "c3"])
        #expect(cases[0].vars["text"] == "Hello, \"world\"")
        #expect(cases[0].tags == ["en", "short"])
        #expect(cases[1].vars["text"] == "two\nlines")
        #expect(cases[2].line == 5)
        #expect(cases[2].expected == ["a": 1])
    }

    @Test(arguments: [
        ("text,label\nhello,x", 1, "no \"expected\" column"),
        ("text,expected\nhello,x,extra", 2, "has 3 fields"),
        ("text,expected\n\"open,x", 2, "never closed"),
        ("text,expected\nhe\"llo,x", 2, "a quote inside an unquoted field"),
        ("text,expected\nhello,", 2, "is missing"),
    ])
    func rejectsBadCSV(text: String, line: Int, fragment: String) {
        let error = #expect(throws: InputError.self) { try EvalSetParser.parseCSV(text) }
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.message.description.contains(fragment) == true, "\(String(describing: error))")
    }
}

struct EvalSetSettingsTests {
    @Test func parsesScorersAndDefaultsLabels() throws {
        let settings = try EvalSetSettings(
            parsing:
                #"{"labels": ["yes", "no"], "scorers": ["label", {"type": "regex", "pattern": "^(yes|no)$"}], "input": "q"}"#
        )
        #expect(settings.scorers.map(\.name) == ["label", "regex"])
        #expect(settings.scorers[0].labels == ["yes", "no"])
        #expect(settings.input == "q")
        #expect(try EvalSetSettings(parsing: settings.json.serialized()) == settings)
    }

    @Test(arguments: [
        (#"{"scorer": "label"}"#, "scorer", "did you mean \"scorers\"?"),
        (#"{"scorers": ["lable"]}"#, "scorers[0].type", "did you mean label?"),
        (
            #"{"scorers": [{"type": "regex", "pattern": "(unclosed"}]}"#, "scorers[0].pattern",
            "not a valid regular expression"
        ),
        (#"{"scorers": [{"type": "json", "fields": ["a..b"]}]}"#, "scorers[0].fields", "not a dotted path"),
        (#"{"scorers": [{"type": "label"}]}"#, "scorers[0].labels", "at least two labels"),
        (#"{"scorers": [{"type": "numeric", "tolerance": -1}]}"#, "scorers[0].tolerance", "0 or more"),
        (
            #"{"scorers": [{"type": "exact", "labels": ["a", "b"]}]}"#, "scorers[0].labels",
            "not a setting of the exact scorer"
        ),
        (#"{"scorers": []}"#, "scorers", "is empty"),
    ])
    func rejectsBadSettings(text: String, field: String, fragment: String) {
        let error = #expect(throws: InputError.self) { try EvalSetSettings(parsing: text) }
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.message.description.contains(fragment) == true, "\(String(describing: error))")
    }
}

struct SourceFileTests {
    @Test func decodesUTF8AndDropsAByteOrderMark() throws {
        #expect(try SourceFile.decode([0xEF, 0xBB, 0xBF] + Array("日本".utf8), path: "f", limit: 100, kind: "x") == "日本")
    }

    @Test func refusesEmptyOversizedAndNonUTF8Files() {
        let empty = #expect(throws: InputError.self) {
            try SourceFile.decode(Array(" \n\t\n".utf8), path: "a.jsonl", limit: 100, kind: "an eval set")
        }
        #expect(empty?.description == "a.jsonl: is empty; an eval set needs content.")
        let big = #expect(throws: InputError.self) {
            try SourceFile.decode(
                [UInt8](repeating: 0x41, count: 3 << 20), path: "b.prompt", limit: 1 << 20, kind: "a prompt file")
        }
        #expect(big?.description == "b.prompt: is 3 MiB; a prompt file may be at most 1 MiB.")
        let latin1 = #expect(throws: InputError.self) {
            try SourceFile.decode(
                Array("ok\nok\ncaf".utf8) + [0xE9] + Array("\n".utf8), path: "c.csv", limit: 100, kind: "x")
        }
        #expect(latin1?.line == 3)
        #expect(latin1?.message.description.contains("not UTF-8") == true)
    }
}
