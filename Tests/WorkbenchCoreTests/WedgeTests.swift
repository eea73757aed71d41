import Testing

@testable import WorkbenchCore

/// Values that would be stored in a form that cannot be read back are refused when first read.
struct WedgeTests {
    @Test(arguments: [
        "max_tokens: 1000000000000000", "max_tokens: 1e400", "top_k: 99999999999999999", "temperature: 1e400",
    ])
    func anOutOfRangeSettingIsRefusedWithItsName(_ line: String) {
        let error = #expect(throws: InputError.self) { try PromptFile(parsing: "---\n\(line)\n---\nA {{x}}\n") }
        let key = String(line.prefix(while: { $0 != ":" }))
        #expect(error?.description.contains(key) == true, "\(String(describing: error))")
    }

    @Test func theLargestAllowedSettingsReadBackAsWritten() throws {
        let file = try PromptFile(parsing: "---\nmax_tokens: 1000000\ntop_k: 1000000\n---\nA {{x}}\n")
        #expect(file.settings.maxTokens == 1_000_000)
        #expect(try PromptFile(parsing: file.canonicalText) == file)
    }

    @Test func aToleranceBeyondADoubleIsABadSetting() {
        let error = #expect(throws: InputError.self) {
            try EvalSetSettings(parsing: #"{"scorers": [{"type": "numeric", "tolerance": 1e400}]}"#)
        }
        #expect(error?.description.contains("a number too large") == true, "\(String(describing: error))")
    }

    @Test func aNumberBeyondADoubleInACaseIsABadLine() {
        let error = #expect(throws: InputError.self) {
            try EvalSetParser.parseJSONL(
                "{\"vars\": {\"x\": 1}, \"expected\": 1}\n{\"vars\": {\"x\": 1e999}, \"expected\": 1}")
        }
        #expect(error?.line == 2, "\(String(describing: error))")
        #expect(error?.description.contains("a number too large") == true, "\(String(describing: error))")
    }
}

struct FencedBodyTests {
    @Test func aBodyStartingWithThreeDashesReadsBackAsItWas() throws {
        // Found by FuzzTests: written back without front matter, the body's first line was
        // taken for the start of one, and two lines of the body were lost.
        let file = try PromptFile(parsing: "---\n---\n---\n---\nA {{x}}\n")
        #expect(file.body.source == "---\n---\nA {{x}}")
        let again = try PromptFile(parsing: file.canonicalText)
        #expect(again.body.source == file.body.source)
    }
}
